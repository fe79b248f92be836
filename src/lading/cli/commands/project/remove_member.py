"""`lading project remove-member`."""

from __future__ import annotations

import click

from lading.cli.output import json_option, show_record
from lading.cli.remote import Remote, api_errors, remote_options


@click.command("remove-member")
@remote_options
@json_option
@click.argument("project")
@click.argument("user")
def remove_member(remote: Remote, as_json: bool, project: str, user: str) -> None:
    """Remove a member from a project; idempotent (administrators, project admins).

    \b
    Example:
      $ lading project remove-member genomics bob
    """
    from lading.client.projects import ProjectsClient

    with api_errors(), remote.client(ProjectsClient) as client:
        show_record(client.remove_member(project, user), as_json=as_json)
