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
      lading admin show-bucket raw-data --json
    """


@admin.command("add-user")
@data_options
@click.argument("name")
@click.option("--admin", "is_admin", is_flag=True, help="Make the user an administrator.")
@click.option(
    "--email", default="", help="The user's e-mail address (ACLs may grant to it by address)."
)
def add_user(
    data_dir: Path | None, config_file: Path | None, name: str, is_admin: bool, email: str
) -> None:
    """Create a user with a fresh access key pair and print it as JSON.

    \b
    Example:
      $ lading admin add-user alice --email alice@example.org
      {"user": "alice", "access_key": "LAD...", "secret_key": "..."}
    """
    from lading import errors
    from lading.app import add_user as create

    settings = load(config_file, data_dir=data_dir)
    try:
        created = create(settings, name, is_admin=is_admin, email=email)
    except errors.LadingError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(created.as_json())


@admin.command("show-bucket")
@data_options
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the record as JSON.")
def show_bucket(data_dir: Path | None, config_file: Path | None, name: str, as_json: bool) -> None:
    """Show a bucket's owner, versioning, object lock and every configuration it holds.

    Configurations are versioning, ACL, policy, CORS, lifecycle, tagging, encryption,
    object lock, public access block and ownership controls, as the server stored them.

    \b
    Example:
      $ lading admin show-bucket raw-data
      name:        raw-data
      owner:       root
      versioning:  Enabled
      object lock: yes
      lifecycle:   {"Rule": [{"ID": "old-versions", ...}]}
    """
    import json

    from lading import errors
    from lading.app import describe_bucket

    settings = load(config_file, data_dir=data_dir)
    try:
        found = describe_bucket(settings, name)
    except errors.LadingError as exc:
        raise click.ClickException(exc.message) from exc
    if as_json:
        click.echo(json.dumps(found, indent=2, sort_keys=True))
        return
    click.echo(f"name:        {found['name']}")
    click.echo(f"owner:       {found['owner']}")
    click.echo(f"versioning:  {found['versioning']}")
    click.echo(f"object lock: {'yes' if found['object_lock'] else 'no'}")
    click.echo(f"objects:     {found['objects']}")
    for kind, document in sorted(found["configurations"].items()):
        click.echo(f"{kind + ':':<12} {json.dumps(document)}")
