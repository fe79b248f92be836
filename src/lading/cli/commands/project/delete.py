"""`lading project delete`."""

from __future__ import annotations

import click

from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@remote_options
@click.argument("name")
def delete(remote: Remote, name: str) -> None:
    """Delete a shared project that owns no bucket any more (administrators).

    \b
    Example:
      $ lading project delete genomics
    """
    from lading.client.projects import ProjectsClient

    with api_errors(), remote.client(ProjectsClient) as client:
        client.delete_project(name)
    click.echo(f"deleted project {name}")
