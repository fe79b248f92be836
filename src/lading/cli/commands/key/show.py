"""`lading key show` and `lading key expire`."""

from __future__ import annotations

import click

from lading.cli.commands.key._common import parse_date
from lading.cli.output import json_option, show_record
from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@remote_options
@json_option
@click.argument("access_key")
def show(remote: Remote, as_json: bool, access_key: str) -> None:
    """Show an access key: its status, expiry and when it was last used.

    \b
    Example:
      $ lading key show LADXXXXXXXXXXXXXXXXX --json
    """
    from lading.client.keys import KeysClient

    with api_errors(), remote.client(KeysClient) as client:
        show_record(client.get_key(access_key), as_json=as_json)


@click.command()
@remote_options
@json_option
@click.argument("access_key")
@click.argument("when", metavar="DATE|never")
def expire(remote: Remote, as_json: bool, access_key: str, when: str) -> None:
    """Set the date an access key stops working, or `never` to remove its expiry.

    \b
    Examples:
      $ lading key expire LADXXXXXXXXXXXXXXXXX 2027-06-30
      $ lading key expire LADXXXXXXXXXXXXXXXXX never
    """
    from lading.client.keys import KeysClient

    expires = None if when.lower() == "never" else parse_date(when)
    with api_errors(), remote.client(KeysClient) as client:
        show_record(client.update_key(access_key, expires=expires), as_json=as_json)
