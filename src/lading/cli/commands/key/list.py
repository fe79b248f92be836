"""`lading key list`."""

from __future__ import annotations

import click

from lading.cli.commands.key._common import COLUMNS
from lading.cli.output import json_option, show_table
from lading.cli.remote import Remote, api_errors, remote_options


@click.command("list")
@remote_options
@json_option
@click.option("--user", help="Whose keys (administrators only); default: yours.")
def list_keys(remote: Remote, as_json: bool, user: str | None) -> None:
    """List access keys with their status, expiry and when they were last used.

    \b
    Example:
      $ lading key list
      ACCESS_KEY            USER   STATUS  CREATED  EXPIRES  LAST_USED
      LADXXXXXXXXXXXXXXXXX  alice  active  ...
    """
    from lading.client.keys import KeysClient

    with api_errors(), remote.client(KeysClient) as client:
        keys = list(client.list_keys(user=user))
    show_table(keys, COLUMNS, as_json=as_json)
