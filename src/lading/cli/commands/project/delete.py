"""`lading project delete`."""

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
    """Delete a shared project that owns no bucket any more (administrators).

    \b
    Example:
      $ lading project delete genomics
    """
    from lading.client.projects import ProjectsClient

    with api_errors(), remote.client(ProjectsClient) as client:
        client.delete_project(name)
    click.echo(json.dumps({"deleted": name}) if as_json else f"deleted project {name}")
