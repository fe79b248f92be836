"""`lading user update`."""

from __future__ import annotations

import click

from lading.cli.output import json_option, show_record
from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@remote_options
@json_option
@click.argument("name")
@click.option("--display-name", default=None, help="The name people see.")
@click.option("--email", default=None, help="Where notifications go.")
@click.option("--admin/--no-admin", "is_admin", default=None, help="Administrator or not.")
def update(
    remote: Remote,
    as_json: bool,
    name: str,
    display_name: str | None,
    email: str | None,
    is_admin: bool | None,
) -> None:
    """Change a user's display name, email or administrator flag.

    Users may change their own display name and email; the rest needs an administrator.

    \b
    Example:
      $ lading user update alice --email alice@new.example
    """
    from lading.client.identity import IdentityClient

    with api_errors(), remote.client(IdentityClient) as client:
        found = client.update_user(name, display_name=display_name, email=email, is_admin=is_admin)
    show_record(found, as_json=as_json)
