"""`lading share show`: one share."""

from __future__ import annotations

import click

from lading.cli.output import json_option, show_record
from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@remote_options
@json_option
@click.argument("share_id", type=int)
def show(remote: Remote, as_json: bool, share_id: int) -> None:
    """Show the share SHARE_ID.

    \b
    Example:
      $ lading share show 3 --json
    """
    from lading.client.shares import SharesClient

    with api_errors(), remote.client(SharesClient) as client:
        found = client.get_share(share_id)
    show_record(found, as_json=as_json)
