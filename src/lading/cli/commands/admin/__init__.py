"""`lading admin`: administration on the data directory, while the server runs or not."""

from __future__ import annotations

from pathlib import Path

import click

from lading.cli.options import data_options, load


@click.group()
def admin() -> None:
    """Administer users and data directly in the data directory.

    \b
    Examples:
      lading admin add-user alice
      lading admin add-user --data-dir /srv/lading bob
    """


@admin.command("add-user")
@data_options
@click.argument("name")
@click.option("--admin", "is_admin", is_flag=True, help="Make the user an administrator.")
def add_user(data_dir: Path | None, config_file: Path | None, name: str, is_admin: bool) -> None:
    """Create a user with a fresh access key pair and print it as JSON.

    \b
    Example:
      $ lading admin add-user alice
      {"user": "alice", "access_key": "LAD...", "secret_key": "..."}
    """
    from lading import errors
    from lading.app import add_user as create

    settings = load(config_file, data_dir=data_dir)
    try:
        created = create(settings, name, is_admin=is_admin)
    except errors.LadingError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(created.as_json())
