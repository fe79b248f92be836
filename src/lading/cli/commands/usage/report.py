"""`lading usage`: byte-days stored, requests and bytes downloaded per project."""

from __future__ import annotations

import csv
import io
import json

import click

from lading.cli.remote import Remote, api_errors, remote_options

FIELDS = [
    "project",
    "from",
    "to",
    "byte_days",
    "average_bytes",
    "max_bytes",
    "bytes_at_end",
    "objects_at_end",
    "requests",
    "bytes_downloaded",
]


@click.command()
@remote_options
@click.option("--project", "projects", multiple=True, help="A project (repeatable) [all yours].")
@click.option("--from", "start", required=True, help="First day (2026-01-01) or ISO moment.")
@click.option("--to", "end", required=True, help="Last day, counted whole, or ISO moment.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "csv", "json"]),
    default="text",
    show_default=True,
)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
def usage(
    remote: Remote,
    projects: tuple[str, ...],
    start: str,
    end: str,
    fmt: str,
    as_json: bool,
) -> None:
    """Report each project's usage over a period, for charge-back.

    Storage is in byte-days: the bytes stored, sampled by every lifecycle/usage pass,
    integrated over the period (a period reaching into the future ends now). Requests and
    bytes downloaded are those the servers counted in the period. Members see their
    projects, administrators every project.

    \b
    Examples:
      $ lading usage --project genomics --from 2026-01-01 --to 2026-12-31 --format csv
      project,from,to,byte_days,average_bytes,...
      genomics,2026-01-01T00:00:00Z,2027-01-01T00:00:00Z,1.5e+13,...
      $ lading usage --from 2026-01-01 --to 2026-03-31 --json
    """
    from lading.client.projects import ProjectsClient

    with api_errors(), remote.client(ProjectsClient) as client:
        lines = client.usage(start, end, projects=list(projects) or None)
    if as_json or fmt == "json":
        click.echo(json.dumps(lines, indent=2, sort_keys=True))
        return
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=FIELDS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(lines)
        click.echo(out.getvalue(), nl=False)
        return
    from lading.cli.output import show_table

    columns = ["project", "byte_days", "max_bytes", "objects_at_end", "requests"]
    show_table(lines, [*columns, "bytes_downloaded"], as_json=False)
