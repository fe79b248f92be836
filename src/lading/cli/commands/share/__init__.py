"""`lading share ...`: grant bucket prefixes to users, groups, everyone logged in, or anyone."""

from __future__ import annotations

import datetime as dt
import re

import click

from lading.cli.main import LazyGroup

COMMANDS = {
    "create": "lading.cli.commands.share.create:create",
    "list": "lading.cli.commands.share.list:list_shares",
    "show": "lading.cli.commands.share.show:show",
    "delete": "lading.cli.commands.share.delete:delete",
    "outbox": "lading.cli.commands.share.outbox:outbox",
}
SHARE_COLUMNS = (
    "id",
    "bucket",
    "prefix",
    "principal_type",
    "principal",
    "permissions",
    "expires_at",
)
_SPAN = re.compile(r"^(\d+)([smhdw])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_when(value: str | None) -> str | None:
    """An ISO 8601 time or date, or a span from now (30m, 12h, 7d, 2w), as ISO 8601 UTC."""
    if value is None:
        return None
    span = _SPAN.match(value.strip())
    if span:
        seconds = int(span.group(1)) * _UNIT[span.group(2)]
        when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    else:
        try:
            when = dt.datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise click.BadParameter(
                f"{value!r} is neither an ISO 8601 time (2026-12-31, 2026-12-31T18:00Z) nor a "
                "span such as 30m, 12h, 7d or 2w"
            ) from exc
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
    return when.isoformat()


@click.group(cls=LazyGroup, lazy=COMMANDS)
def share() -> None:
    """Share a bucket prefix (read, or read and write) with others.

    \b
    Examples:
      lading share create raw-data --prefix run-42/ --user bob --permissions rw
      lading share create raw-data --prefix public/ --anonymous --expires 30d
      lading share list --bucket raw-data
      lading share delete 7
    """
