"""What the key commands share: the columns shown and date parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import click

COLUMNS = ("access_key", "user", "status", "created", "expires", "last_used")


def parse_date(text: str | None) -> datetime | None:
    """A date or date-time from the command line (UTC unless it names a zone)."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date like 2027-06-30 or an ISO 8601 time"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
