"""`lading key delete`."""

from __future__ import annotations

import click

from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@remote_options
@click.argument("access_key")
def delete(remote: Remote, access_key: str) -> None:
    """Delete an access key for good.

    \b
    Example:
      $ lading key delete LADXXXXXXXXXXXXXXXXX
      deleted LADXXXXXXXXXXXXXXXXX
    """
    from lading.client.keys import KeysClient

    with api_errors(), remote.client(KeysClient) as client:
        client.delete_key(access_key)
    click.echo(f"deleted {access_key}")
