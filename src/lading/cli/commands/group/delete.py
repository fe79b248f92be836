"""`lading group delete`."""

from __future__ import annotations

import json

import click

from lading.cli.output import json_option
from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@remote_options
@json_option
@click.argument("name")
def delete(remote: Remote, as_json: bool, name: str) -> None:
    """Delete a group (administrators); its members keep their own access.

    \b
    Example:
      $ lading group delete imaging
    """
    from lading.client.identity import IdentityClient

    with api_errors(), remote.client(IdentityClient) as client:
        client.delete_group(name)
    click.echo(json.dumps({"deleted": name}) if as_json else f"deleted group {name}")
