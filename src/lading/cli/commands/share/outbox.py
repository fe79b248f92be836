"""`lading share outbox`: the notification messages (admins)."""

from __future__ import annotations

import click

from lading.cli.output import json_option, show_table
from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@remote_options
@json_option
def outbox(remote: Remote, as_json: bool) -> None:
    """List every share notification e-mail: sent, stored (no SMTP server) or failed.

    \b
    Examples:
      $ lading share outbox
      ID  CREATED_AT                 RECIPIENT        STATUS  SUBJECT
      1   2026-12-01T10:00:00+00:00  bob@example.org  stored  alice shared raw-data/run-42/ ...
      $ lading share outbox --json
    """
    from lading.client.shares import SharesClient

    with api_errors(), remote.client(SharesClient) as client:
        found = list(client.list_outbox())
    show_table(found, ("id", "created_at", "recipient", "status", "subject"), as_json=as_json)
