"""`lading project show`."""

from __future__ import annotations

import click

from lading.cli.output import json_option, show_record
from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@remote_options
@json_option
@click.argument("name")
def show(remote: Remote, as_json: bool, name: str) -> None:
    """Show a project: quota and use, expiry, members and buckets.

    \b
    Example:
      $ lading project show genomics
      name:         genomics
      quota_bytes:  10000000000000
      used_bytes:   52428800
      members:      [{"role": "admin", "user": "alice"}]
      buckets:      ["genomics-raw"]
    """
    from lading.client.projects import ProjectsClient

    with api_errors(), remote.client(ProjectsClient) as client:
        show_record(client.get_project(name), as_json=as_json)
