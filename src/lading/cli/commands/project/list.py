"""`lading project list`."""

from __future__ import annotations

import click

from lading.cli.commands.project._options import COLUMNS
from lading.cli.output import json_option, show_table
from lading.cli.remote import Remote, api_errors, remote_options


@click.command("list")
@remote_options
@json_option
@click.option(
    "--needs-attention",
    is_flag=True,
    help="Only projects past their expiry and grace period, to archive or delete.",
)
@click.option("--mine", is_flag=True, help="Only projects you are a member of.")
def list_(remote: Remote, as_json: bool, needs_attention: bool, mine: bool) -> None:
    """List projects: all of them for administrators, your own for others.

    \b
    Examples:
      $ lading project list
      NAME      QUOTA_BYTES     QUOTA_OBJECTS  USED_BYTES  USED_OBJECTS  EXPIRES_AT
      genomics  10000000000000  -              52428800    12            2027-06-30T00:00:00Z
      $ lading project list --needs-attention --json
    """
    from lading.client.projects import ProjectsClient

    with api_errors(), remote.client(ProjectsClient) as client:
        rows = [*client.list_projects(needs_attention=needs_attention, mine=mine)]
    show_table(rows, COLUMNS, as_json=as_json)
