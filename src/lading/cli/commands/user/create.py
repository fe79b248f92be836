"""`lading user create`."""

from __future__ import annotations

import click

from lading.cli.output import json_option, show_record
from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@remote_options
@json_option
@click.argument("name")
@click.option("--display-name", default="", help="The name people see.")
@click.option("--email", default="", help="Where notifications go.")
@click.option("--admin", "is_admin", is_flag=True, help="Make the user an administrator.")
def create(
    remote: Remote, as_json: bool, name: str, display_name: str, email: str, is_admin: bool
) -> None:
    """Create a user, their personal project and a first access key pair (administrators).

    The secret key is shown this once.

    \b
    Example:
      $ lading user create alice --email alice@lab.example --json
      {"name": "alice", "access_key": "LAD...", "secret_key": "...", ...}
    """
    from lading.client.identity import IdentityClient

    with api_errors(), remote.client(IdentityClient) as client:
        created = client.create_user(
            name, display_name=display_name, email=email, is_admin=is_admin
        )
    show_record(created, as_json=as_json)
