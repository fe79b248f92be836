"""`lading key disable` and `lading key enable`."""

from __future__ import annotations

import click

from lading.cli.output import json_option, show_record
from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@remote_options
@json_option
@click.argument("access_key")
def disable(remote: Remote, as_json: bool, access_key: str) -> None:
    """Disable an access key: requests signed with it are refused until it is enabled.

    \b
    Example:
      $ lading key disable LADXXXXXXXXXXXXXXXXX
    """
    from lading.client.keys import KeysClient

    with api_errors(), remote.client(KeysClient) as client:
        show_record(client.disable_key(access_key), as_json=as_json)


@click.command()
@remote_options
@json_option
@click.argument("access_key")
def enable(remote: Remote, as_json: bool, access_key: str) -> None:
    """Enable a disabled access key (a user holds at most two active keys).

    \b
    Example:
      $ lading key enable LADXXXXXXXXXXXXXXXXX
    """
    from lading.client.keys import KeysClient

    with api_errors(), remote.client(KeysClient) as client:
        show_record(client.enable_key(access_key), as_json=as_json)
