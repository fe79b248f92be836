"""`lading group`: groups of users, for sharing with many at once."""

from __future__ import annotations

import click

from lading.cli.main import LazyGroup

VERBS = {
    "list": "lading.cli.commands.group.list:list_",
    "create": "lading.cli.commands.group.create:create",
    "show": "lading.cli.commands.group.show:show",
    "delete": "lading.cli.commands.group.delete:delete",
    "add-member": "lading.cli.commands.group.add_member:add_member",
    "remove-member": "lading.cli.commands.group.remove_member:remove_member",
}


@click.group(cls=LazyGroup, lazy=VERBS)
def group() -> None:
    """List, create, show and delete groups; add and remove members.

    \b
    Examples:
      lading group create imaging --description "Imaging facility"
      lading group add-member imaging alice
      lading group show imaging --json
    """
