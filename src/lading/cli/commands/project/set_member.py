"""`lading project set-member`."""

from __future__ import annotations

import click

from lading.cli.output import json_option, show_record
from lading.cli.remote import Remote, api_errors, remote_options


@click.command("set-member")
@remote_options
@json_option
@click.argument("project")
@click.argument("user")
@click.argument("role", type=click.Choice(["admin", "writer", "reader"]))
def set_member(remote: Remote, as_json: bool, project: str, user: str, role: str) -> None:
    """Add a member to a project or change their role (administrators, project admins).

    \b
    Example:
      $ lading project set-member genomics bob writer
    """
    from lading.client.projects import ProjectsClient

    with api_errors(), remote.client(ProjectsClient) as client:
        show_record(client.set_member(project, user, role), as_json=as_json)
