"""`python -m lading` runs the CLI."""

from lading.cli.main import main

main()
