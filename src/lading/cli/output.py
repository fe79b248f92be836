"""Printing records: aligned `field: value` text for people, JSON with --json."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def json_option(func: F) -> F:
    """Add --json (the command receives `as_json: bool`)."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def show_record(record: Mapping[str, Any], *, as_json: bool) -> None:
    """One record: JSON, or one `name: value` line per field."""
    if as_json:
        click.echo(json.dumps(record, indent=2, sort_keys=True))
        return
    width = max((len(k) for k in record), default=0) + 1
    for name, value in record.items():
        click.echo(f"{name + ':':<{width}} {_text(value)}")


def show_table(
    records: Iterable[Mapping[str, Any]], columns: Sequence[str], *, as_json: bool
) -> None:
    """Many records: a JSON array, or a table with a header line."""
    rows = list(records)
    if as_json:
        click.echo(json.dumps(rows, indent=2, sort_keys=True))
        return
    cells = [[_text(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
