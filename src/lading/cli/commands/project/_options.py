"""Option parsing shared by the project commands."""

from __future__ import annotations

import re

import click

_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "PB": 10**15}
_UNITS.update({"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40, "PIB": 2**50})
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")
COLUMNS = ["name", "quota_bytes", "quota_objects", "used_bytes", "used_objects", "expires_at"]


def parse_size(value: str) -> int | None:
    """Bytes of '500GB', '2TiB' or '1000'; 'none' removes the limit."""
    if value.strip().lower() == "none":
        return None
    found = _SIZE.match(value)
    unit = found.group(2).upper() if found else ""
    if found is None or unit not in _UNITS:
        raise click.BadParameter(f"{value!r} is not a size such as 500GB, 2TiB or 1000")
    return int(float(found.group(1)) * _UNITS[unit])


def parse_count(value: str) -> int | None:
    if value.strip().lower() == "none":
        return None
    if not value.strip().isdigit():
        raise click.BadParameter(f"{value!r} is not a count (or 'none')")
    return int(value)


def parse_expiry(value: str) -> str | None:
    """A date (2027-06-30, midnight UTC) or ISO 8601 moment; 'none' removes the expiry."""
    if value.strip().lower() == "none":
        return None
    text = value.strip()
    return f"{text}T00:00:00Z" if len(text) == 10 else text
