"""`lading group list`."""

from __future__ import annotations

import click

from lading.cli.output import json_option, show_table
from lading.cli.remote import Remote, api_errors, remote_options


@click.command("list")
@remote_options
@json_option
def list_(remote: Remote, as_json: bool) -> None:
    """List every group and its members.

    \b
    Example:
      $ lading group list
      NAME     DESCRIPTION        MEMBERS
      imaging  Imaging facility   ["alice", "bob"]
    """
    from lading.client.identity import IdentityClient

    with api_errors(), remote.client(IdentityClient) as client:
        rows = [*client.list_groups()]
    show_table(rows, ["name", "description", "members"], as_json=as_json)
