"""`lading link revoke`: a link stops opening at once."""

from __future__ import annotations

import click

from lading.cli.output import json_option, show_record
from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@remote_options
@json_option
@click.argument("link_id", type=int)
def revoke(remote: Remote, as_json: bool, link_id: int) -> None:
    """Revoke the link LINK_ID (its record and recorded uses stay).

    \b
    Example:
      $ lading link revoke 5
      id:    5
      state: revoked
      ...
    """
    from lading.client.shares import LinksClient

    with api_errors(), remote.client(LinksClient) as client:
        found = client.revoke_link(link_id)
    show_record(found, as_json=as_json)
