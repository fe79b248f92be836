"""`lading link uses`: every recorded request through a link."""

from __future__ import annotations

import click

from lading.cli.output import json_option, show_table
from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@remote_options
@json_option
@click.argument("link_id", type=int)
def uses(remote: Remote, as_json: bool, link_id: int) -> None:
    """List the uses of LINK_ID: when, from where, what, bytes and the outcome.

    \b
    Example:
      $ lading link uses 5
      AT                         REMOTE     KEY                 BYTES  OUTCOME
      2026-12-01T10:00:00+00:00  10.0.0.7   run-42/summary.csv  2048   served
      2026-12-09T10:00:00+00:00  10.0.0.9   run-42/             0      expired
    """
    from lading.client.shares import LinksClient

    with api_errors(), remote.client(LinksClient) as client:
        found = list(client.list_link_uses(link_id))
    show_table(found, ("at", "remote", "key", "bytes", "outcome"), as_json=as_json)
