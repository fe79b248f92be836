"""`lading link list`: the links of your buckets, or of one."""

from __future__ import annotations

import click

from lading.cli.commands.link import LINK_COLUMNS
from lading.cli.output import json_option, show_table
from lading.cli.remote import Remote, api_errors, remote_options


@click.command("list")
@remote_options
@json_option
@click.option("--bucket", help="Only this bucket's links.")
def list_links(remote: Remote, as_json: bool, bucket: str | None) -> None:
    """List share links and their state (all pages).

    \b
    Example:
      $ lading link list --bucket raw-data
      ID  BUCKET    PREFIX   STATE   USES  MAX_USES  BYTES_SERVED  EXPIRES_AT
      5   raw-data  run-42/  active  2     10        2048          2026-12-08T10:00:00Z
    """
    from lading.client.shares import LinksClient

    with api_errors(), remote.client(LinksClient) as client:
        found = list(client.list_links(bucket=bucket))
    show_table(found, LINK_COLUMNS, as_json=as_json)
