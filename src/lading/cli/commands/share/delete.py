"""`lading share delete`: remove a share (never any data)."""

from __future__ import annotations

import json

import click

from lading.cli.output import json_option
from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@remote_options
@json_option
@click.argument("share_id", type=int)
def delete(remote: Remote, as_json: bool, share_id: int) -> None:
    """Delete the share SHARE_ID: its grantee loses access at once; no object is deleted.

    \b
    Example:
      $ lading share delete 3
      share 3 deleted
    """
    from lading.client.shares import SharesClient

    with api_errors(), remote.client(SharesClient) as client:
        client.delete_share(share_id)
    click.echo(json.dumps({"deleted": share_id}) if as_json else f"share {share_id} deleted")
