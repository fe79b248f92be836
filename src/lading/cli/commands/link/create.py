"""`lading link create`: a bearer link to a prefix or one object."""

from __future__ import annotations

import click

from lading.cli.commands.project._options import parse_size
from lading.cli.commands.share import parse_when
from lading.cli.output import json_option, show_record
from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@remote_options
@json_option
@click.argument("bucket")
@click.option("--prefix", help="Share the keys under this prefix ('': the whole bucket).")
@click.option("--key", help="Or share this one object.")
@click.option("--expires", help="When the link stops opening: 2026-12-31 or 12h, 7d [7d].")
@click.option("--max-uses", type=click.IntRange(min=1), help="Downloads allowed.")
@click.option("--max-bytes", help="Bytes the link may serve: 1000000, 500MB, 2GiB.")
@click.option("--note", default="", help="A note shown on the link's page.")
def create(
    remote: Remote,
    as_json: bool,
    bucket: str,
    prefix: str | None,
    key: str | None,
    expires: str | None,
    max_uses: int | None,
    max_bytes: str | None,
    note: str,
) -> None:
    """Make a link to BUCKET's --prefix (an index page) or --key (a download).

    The URL holds the link's token: it is shown only now, and anyone who has it can read
    what it opens until it expires, is used up or is revoked.

    \b
    Examples:
      $ lading link create raw-data --prefix run-42/ --expires 7d --max-uses 10
      id:           5
      url:          http://127.0.0.1:9000/_/s/Xq3...
      ...
      $ lading link create raw-data --key run-42/summary.csv --max-bytes 1GB --json
    """
    from lading.client.shares import LinksClient

    if (prefix is None) == (key is None):
        raise click.UsageError("Give either --prefix or --key.")
    when = parse_when(expires)
    cap = parse_size(max_bytes) if max_bytes is not None else None
    with api_errors(), remote.client(LinksClient) as client:
        found = client.create_link(
            bucket,
            prefix=prefix,
            key=key,
            expires_at=when,
            max_uses=max_uses,
            max_bytes=cap,
            note=note,
        )
    show_record(found, as_json=as_json)
