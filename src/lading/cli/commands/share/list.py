"""`lading share list`: the shares of your buckets, of one bucket, or made to you."""

from __future__ import annotations

import click

from lading.cli.commands.share import SHARE_COLUMNS
from lading.cli.output import json_option, show_table
from lading.cli.remote import Remote, api_errors, remote_options


@click.command("list")
@remote_options
@json_option
@click.option("--bucket", help="Only this bucket's shares.")
@click.option("--granted", is_flag=True, help="The shares others made to you instead.")
def list_shares(remote: Remote, as_json: bool, bucket: str | None, granted: bool) -> None:
    """List shares (all pages).

    \b
    Examples:
      $ lading share list --bucket raw-data
      ID  BUCKET    PREFIX   PRINCIPAL_TYPE  PRINCIPAL  PERMISSIONS  EXPIRES_AT
      3   raw-data  run-42/  user            bob        rw           -
      $ lading share list --granted --json
    """
    from lading.client.shares import SharesClient

    with api_errors(), remote.client(SharesClient) as client:
        found = list(client.list_shares(bucket=bucket, granted=granted))
    show_table(found, SHARE_COLUMNS, as_json=as_json)
