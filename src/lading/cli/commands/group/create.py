"""`lading group create`."""

from __future__ import annotations

import click

from lading.cli.output import json_option, show_record
from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@remote_options
@json_option
@click.argument("name")
@click.option("--description", default="", help="What the group is for.")
def create(remote: Remote, as_json: bool, name: str, description: str) -> None:
    """Create an empty group (administrators).

    \b
    Example:
      $ lading group create imaging --description "Imaging facility"
    """
    from lading.client.identity import IdentityClient

    with api_errors(), remote.client(IdentityClient) as client:
        show_record(client.create_group(name, description=description), as_json=as_json)
