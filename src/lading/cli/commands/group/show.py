"""`lading group show`."""

from __future__ import annotations

import click

from lading.cli.output import json_option, show_record
from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@remote_options
@json_option
@click.argument("name")
def show(remote: Remote, as_json: bool, name: str) -> None:
    """Show a group and its members.

    \b
    Example:
      $ lading group show imaging
      name:        imaging
      members:     ["alice", "bob"]
    """
    from lading.client.identity import IdentityClient

    with api_errors(), remote.client(IdentityClient) as client:
        show_record(client.get_group(name), as_json=as_json)
