"""`lading group delete`."""

from __future__ import annotations

import click

from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@remote_options
@click.argument("name")
def delete(remote: Remote, name: str) -> None:
    """Delete a group (administrators); its members keep their own access.

    \b
    Example:
      $ lading group delete imaging
    """
    from lading.client.identity import IdentityClient

    with api_errors(), remote.client(IdentityClient) as client:
        client.delete_group(name)
    click.echo(f"deleted group {name}")
