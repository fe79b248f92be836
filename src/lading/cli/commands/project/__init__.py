"""`lading project`: projects, their members, quota and expiry, and their buckets."""

from __future__ import annotations

import click

from lading.cli.main import LazyGroup

VERBS = {
    "list": "lading.cli.commands.project.list:list_",
    "create": "lading.cli.commands.project.create:create",
    "show": "lading.cli.commands.project.show:show",
    "update": "lading.cli.commands.project.update:update",
    "delete": "lading.cli.commands.project.delete:delete",
    "set-member": "lading.cli.commands.project.set_member:set_member",
    "remove-member": "lading.cli.commands.project.remove_member:remove_member",
    "create-bucket": "lading.cli.commands.project.create_bucket:create_bucket",
}


@click.group(cls=LazyGroup, lazy=VERBS)
def project() -> None:
    """Projects own buckets, hold a quota and an expiry date, and give members roles.

    Roles: admin (everything in the project's buckets), writer (read, write and delete
    objects), reader (read and list). After its expiry date a project's buckets are
    read-only; after the grace period too, `list --needs-attention` shows it.

    \b
    Examples:
      lading project create genomics --quota-bytes 10TB --expires 2027-06-30 --admin alice
      lading project set-member genomics bob writer
      lading project list --needs-attention
    """
