"""`lading link show`: one share link (never its token)."""

from __future__ import annotations

import click

from lading.cli.output import json_option, show_record
from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@remote_options
@json_option
@click.argument("link_id", type=int)
def show(remote: Remote, as_json: bool, link_id: int) -> None:
    """Show the link LINK_ID: its scope, state, limits and what it has served.

    \b
    Example:
      $ lading link show 5 --json
    """
    from lading.client.shares import LinksClient

    with api_errors(), remote.client(LinksClient) as client:
        found = client.get_link(link_id)
    show_record(found, as_json=as_json)
