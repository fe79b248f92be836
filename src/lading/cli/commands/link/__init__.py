"""`lading link ...`: revocable bearer links to a bucket prefix or one object."""

from __future__ import annotations

import click

from lading.cli.main import LazyGroup

COMMANDS = {
    "create": "lading.cli.commands.link.create:create",
    "list": "lading.cli.commands.link.list:list_links",
    "show": "lading.cli.commands.link.show:show",
    "revoke": "lading.cli.commands.link.revoke:revoke",
    "uses": "lading.cli.commands.link.uses:uses",
}
LINK_COLUMNS = ("id", "bucket", "prefix", "state", "uses", "max_uses", "bytes_served", "expires_at")


@click.group(cls=LazyGroup, lazy=COMMANDS)
def link() -> None:
    """Give out links that open a prefix or an object in a browser, without an account.

    \b
    Examples:
      lading link create raw-data --prefix run-42/ --expires 7d --max-uses 10
      lading link list --bucket raw-data
      lading link show 5
      lading link uses 5
      lading link revoke 5
    """
