"""`lading user enable`."""

from __future__ import annotations

import click

from lading.cli.output import json_option, show_record
from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@remote_options
@json_option
@click.argument("name")
def enable(remote: Remote, as_json: bool, name: str) -> None:
    """Let a disabled user's keys work again (administrators).

    \b
    Example:
      $ lading user enable alice
    """
    from lading.client.identity import IdentityClient

    with api_errors(), remote.client(IdentityClient) as client:
        show_record(client.update_user(name, enabled=True), as_json=as_json)
