"""`lading project create`."""

from __future__ import annotations

import click

from lading.cli.commands.project._options import parse_count, parse_expiry, parse_size
from lading.cli.output import json_option, show_record
from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@remote_options
@json_option
@click.argument("name")
@click.option("--description", default="", help="What the project is.")
@click.option("--quota-bytes", default="none", help="Storage quota: 500GB, 2TiB... [none]")
@click.option("--quota-objects", default="none", help="Most objects it may hold [none].")
@click.option("--expires", default="none", help="Date its buckets turn read-only [none].")
@click.option("--grace-days", default=30, show_default=True, help="Days after expiry.")
@click.option("--admin", default=None, help="A user to make the project's first admin.")
def create(
    remote: Remote,
    as_json: bool,
    name: str,
    description: str,
    quota_bytes: str,
    quota_objects: str,
    expires: str,
    grace_days: int,
    admin: str | None,
) -> None:
    """Create a shared project (administrators).

    \b
    Example:
      $ lading project create genomics --quota-bytes 10TB --quota-objects 1000000 \\
          --expires 2027-06-30 --grace-days 60 --admin alice
    """
    from lading.client.projects import ProjectsClient

    with api_errors(), remote.client(ProjectsClient) as client:
        found = client.create_project(
            name,
            description=description,
            quota_bytes=parse_size(quota_bytes),
            quota_objects=parse_count(quota_objects),
            expires_at=parse_expiry(expires),
            grace_days=grace_days,
            admin=admin,
        )
    show_record(found, as_json=as_json)
