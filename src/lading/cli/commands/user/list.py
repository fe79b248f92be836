"""`lading user list`."""

from __future__ import annotations

import click

from lading.cli.output import json_option, show_table
from lading.cli.remote import Remote, api_errors, remote_options


@click.command("list")
@remote_options
@json_option
def list_(remote: Remote, as_json: bool) -> None:
    """List every user (administrators).

    \b
    Example:
      $ lading user list
      NAME   DISPLAY_NAME  EMAIL              IS_ADMIN  ENABLED
      alice  Alice         alice@lab.example  False     True
    """
    from lading.client.identity import IdentityClient

    with api_errors(), remote.client(IdentityClient) as client:
        rows = [*client.list_users()]
    columns = ["name", "display_name", "email", "is_admin", "enabled"]
    show_table(rows, columns, as_json=as_json)
