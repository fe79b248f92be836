"""`lading key`: access key pairs (at most two active per user, for rotation)."""

from __future__ import annotations

import click

from lading.cli.main import LazyGroup

SUBCOMMANDS = {
    "create": "lading.cli.commands.key.create:create",
    "list": "lading.cli.commands.key.list:list_keys",
    "show": "lading.cli.commands.key.show:show",
    "expire": "lading.cli.commands.key.show:expire",
    "disable": "lading.cli.commands.key.status:disable",
    "enable": "lading.cli.commands.key.status:enable",
    "delete": "lading.cli.commands.key.delete:delete",
}


@click.group(cls=LazyGroup, lazy=SUBCOMMANDS)
def key() -> None:
    """Create, list, show, disable, enable, expire and delete access keys.

    A user holds at most two active key pairs: create the second, move every agent to it,
    then disable (and later delete) the first.

    \b
    Examples:
      lading key create --expires 2027-06-30
      lading key list --json
      lading key disable LADXXXXXXXXXXXXXXXXX
      lading key expire LADXXXXXXXXXXXXXXXXX 2027-06-30
      lading key create --user alice        (administrators)
    """
