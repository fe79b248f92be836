"""`lading project create-bucket`."""

from __future__ import annotations

import click

from lading.cli.output import json_option, show_record
from lading.cli.remote import Remote, api_errors, remote_options


@click.command("create-bucket")
@remote_options
@json_option
@click.argument("project")
@click.argument("bucket")
def create_bucket(remote: Remote, as_json: bool, project: str, bucket: str) -> None:
    """Create a bucket that belongs to a project (its admins and writers).

    S3 clients can do the same: CreateBucket with the header `x-lading-project: PROJECT`.

    \b
    Example:
      $ lading project create-bucket genomics genomics-raw
    """
    from lading.client.projects import ProjectsClient

    with api_errors(), remote.client(ProjectsClient) as client:
        show_record(client.create_bucket(project, bucket), as_json=as_json)
