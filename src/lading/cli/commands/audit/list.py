"""`lading audit list`."""

from __future__ import annotations

import itertools

import click

from lading.cli.commands.key._common import parse_date
from lading.cli.output import json_option, show_table
from lading.cli.remote import Remote, api_errors, remote_options

COLUMNS = ("at", "user", "client", "operation", "bucket", "key", "status", "code", "outcome")


@click.command("list")
@remote_options
@json_option
@click.option("--user", help="Only this user's requests.")
@click.option("--bucket", help="Only requests on this bucket.")
@click.option("--from", "since", metavar="DATE", help="From this date or time (inclusive).")
@click.option("--to", "until", metavar="DATE", help="Up to this date or time (exclusive).")
@click.option("--outcome", type=click.Choice(["ok", "denied", "error"]))
@click.option("--limit", default=100, show_default=True, help="At most this many records.")
def list_audit(
    remote: Remote,
    as_json: bool,
    user: str | None,
    bucket: str | None,
    since: str | None,
    until: str | None,
    outcome: str | None,
    limit: int,
) -> None:
    """List audit records, newest first.

    \b
    Example:
      $ lading audit list --outcome denied --limit 5
      AT                         USER  CLIENT     OPERATION  BUCKET  KEY  STATUS  CODE  OUTCOME
      2027-01-05T10:00:00+00:00  bob   10.0.0.7   PutObject  raw     a    403     ...   denied
    """
    from lading.client.audit import AuditClient

    with api_errors(), remote.client(AuditClient) as client:
        records = client.list_audit(
            user=user,
            bucket=bucket,
            since=parse_date(since),
            until=parse_date(until),
            outcome=outcome,
            limit=min(limit, 1000),
        )
        found = list(itertools.islice(records, limit))
    show_table(found, COLUMNS, as_json=as_json)
