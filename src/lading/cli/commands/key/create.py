"""`lading key create`."""

from __future__ import annotations

import click

from lading.cli.commands.key._common import parse_date
from lading.cli.output import json_option, show_record
from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@remote_options
@json_option
@click.option("--user", help="Whose key (administrators only); default: yours.")
@click.option("--expires", metavar="DATE", help="When the key stops working (2027-06-30).")
def create(remote: Remote, as_json: bool, user: str | None, expires: str | None) -> None:
    """Create an access key pair; the secret is shown this once.

    \b
    Example:
      $ lading key create --expires 2027-06-30
      access_key: LADXXXXXXXXXXXXXXXXX
      secret_key: ...
    """
    from lading.client.keys import KeysClient

    with api_errors(), remote.client(KeysClient) as client:
        made = client.create_key(user=user, expires=parse_date(expires))
    show_record(made, as_json=as_json)
