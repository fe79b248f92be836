"""`lading key delete`."""

from __future__ import annotations

import json

import click

from lading.cli.output import json_option
from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@remote_options
@json_option
@click.argument("access_key")
def delete(remote: Remote, as_json: bool, access_key: str) -> None:
    """Delete an access key for good.

    \b
    Example:
      $ lading key delete LADXXXXXXXXXXXXXXXXX
      deleted LADXXXXXXXXXXXXXXXXX
    """
    from lading.client.keys import KeysClient

    with api_errors(), remote.client(KeysClient) as client:
        client.delete_key(access_key)
    click.echo(json.dumps({"deleted": access_key}) if as_json else f"deleted {access_key}")
