"""`lading project update`."""

from __future__ import annotations

from typing import Any

import click

from lading.cli.commands.project._options import parse_count, parse_expiry, parse_size
from lading.cli.output import json_option, show_record
from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@remote_options
@json_option
@click.argument("name")
@click.option("--description", default=None, help="What the project is.")
@click.option("--quota-bytes", default=None, help="Storage quota: 500GB, 2TiB, or none.")
@click.option("--quota-objects", default=None, help="Most objects it may hold, or none.")
@click.option("--expires", default=None, help="Date its buckets turn read-only, or none.")
@click.option("--grace-days", type=int, default=None, help="Days after expiry.")
def update(
    remote: Remote,
    as_json: bool,
    name: str,
    description: str | None,
    quota_bytes: str | None,
    quota_objects: str | None,
    expires: str | None,
    grace_days: int | None,
) -> None:
    """Change a project's quota, expiry or grace (administrators) or description.

    Options left out keep their value; 'none' removes a quota or the expiry.

    \b
    Example:
      $ lading project update genomics --expires 2028-06-30 --quota-bytes 20TB
    """
    from lading.client.projects import ProjectsClient

    changes: dict[str, Any] = {}
    if quota_bytes is not None:
        changes["quota_bytes"] = parse_size(quota_bytes)
    if quota_objects is not None:
        changes["quota_objects"] = parse_count(quota_objects)
    if expires is not None:
        changes["expires_at"] = parse_expiry(expires)
    with api_errors(), remote.client(ProjectsClient) as client:
        found = client.update_project(
            name, description=description, grace_days=grace_days, **changes
        )
    show_record(found, as_json=as_json)
