"""`lading share create`: grant a bucket prefix to a principal."""

from __future__ import annotations

import click

from lading.cli.commands.share import parse_when
from lading.cli.output import json_option, show_record
from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@remote_options
@json_option
@click.argument("bucket")
@click.option("--prefix", default="", help="Share keys starting with this ('': the bucket).")
@click.option("--user", help="Share with this user.")
@click.option("--group", help="Share with this group.")
@click.option("--all-authenticated", is_flag=True, help="Share with every logged-in user.")
@click.option("--anonymous", is_flag=True, help="Share with anyone, without credentials.")
@click.option(
    "--permissions",
    type=click.Choice(["r", "rw"]),
    default="r",
    show_default=True,
    help="Read, or read and write.",
)
@click.option("--expires", help="When the share ends: 2026-12-31, or a span: 12h, 30d.")
@click.option("--message", default="", help="A message for the grantee.")
@click.option("--notify", "notify_email", default="", help="Mail a notification to this address.")
def create(
    remote: Remote,
    as_json: bool,
    bucket: str,
    prefix: str,
    user: str | None,
    group: str | None,
    all_authenticated: bool,
    anonymous: bool,
    permissions: str,
    expires: str | None,
    message: str,
    notify_email: str,
) -> None:
    """Share BUCKET (or a prefix of it) with one user, a group, everyone logged in or anyone.

    \b
    Examples:
      $ lading share create raw-data --prefix run-42/ --user bob --permissions rw \\
          --notify bob@example.org --message "The run 42 data"
      id:             3
      bucket:         raw-data
      prefix:         run-42/
      principal_type: user
      principal:      bob
      permissions:    rw
      ...
      $ lading share create raw-data --prefix public/ --anonymous --expires 30d --json
    """
    from lading.client.shares import SharesClient

    chosen = [
        kind
        for kind, on in (
            ("user", user is not None),
            ("group", group is not None),
            ("all_authenticated_users", all_authenticated),
            ("anonymous", anonymous),
        )
        if on
    ]
    if len(chosen) != 1:
        raise click.UsageError(
            "Name exactly one grantee: --user, --group, --all-authenticated or --anonymous."
        )
    when = parse_when(expires)
    with api_errors(), remote.client(SharesClient) as client:
        found = client.create_share(
            bucket,
            principal_type=chosen[0],
            principal=user if user is not None else group,
            prefix=prefix,
            permissions=permissions,
            expires_at=when,
            message=message,
            notify_email=notify_email,
        )
    show_record(found, as_json=as_json)
