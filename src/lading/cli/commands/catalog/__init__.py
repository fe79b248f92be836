"""`lading catalog`: attributes, search, ingest and export of the metadata catalog."""

from __future__ import annotations

import click

from lading.cli.main import LazyGroup

COMMANDS = {
    "set": "lading.cli.commands.catalog.set:set_attributes",
    "get": "lading.cli.commands.catalog.get:get",
    "search": "lading.cli.commands.catalog.search:search",
    "ingest": "lading.cli.commands.catalog.ingest:ingest",
    "export": "lading.cli.commands.catalog.export:export",
}


@click.group(cls=LazyGroup, lazy=COMMANDS)
def catalog() -> None:
    """Describe objects with attributes and find them again.

    \b
    Examples:
      lading catalog set s3://datacont/a.bin experiment_id=exp1 date=2016-06-06
      lading catalog search "experiment_id = 'exp1'" --fields url
      lading catalog ingest experiments.csv --files ./datafiles --bucket datacont
      lading catalog export --bucket datacont --format parquet -o catalog.parquet
    """
