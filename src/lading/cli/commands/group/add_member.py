"""`lading group add-member`."""

from __future__ import annotations

import click

from lading.cli.output import json_option, show_record
from lading.cli.remote import Remote, api_errors, remote_options


@click.command("add-member")
@remote_options
@json_option
@click.argument("group")
@click.argument("user")
def add_member(remote: Remote, as_json: bool, group: str, user: str) -> None:
    """Add a user to a group; idempotent (administrators).

    \b
    Example:
      $ lading group add-member imaging alice
    """
    from lading.client.identity import IdentityClient

    with api_errors(), remote.client(IdentityClient) as client:
        show_record(client.add_group_member(group, user), as_json=as_json)
