"""`lading catalog export`: the catalog as a table for pandas, DuckDB or a spreadsheet."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from lading.cli.remote import Remote, api_errors, remote_options

SYSTEM_COLUMNS = (
    "bucket",
    "key",
    "url",
    "version_id",
    "size",
    "etag",
    "content_type",
    "last_modified",
    "owner",
    "storage_class",
)


def flatten(item: dict[str, Any]) -> dict[str, Any]:
    """One record: system fields, then attributes, then meta:<name> and tag:<name>."""
    row = {name: item.get(name) for name in SYSTEM_COLUMNS}
    for name, value in item.get("attributes", {}).items():
        row.setdefault(name, value)
    for name, value in item.get("metadata", {}).items():
        row[f"meta:{name}"] = value
    for name, value in item.get("tags", {}).items():
        row[f"tag:{name}"] = value
    return row


def _timestamp(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return value


def write_parquet(rows: list[dict[str, Any]], types: dict[str, str], output: Path) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise click.ClickException(
            "Parquet export needs pyarrow: pip install 'lading[catalog]'"
        ) from None
    columns = _columns(rows)
    arrays = {}
    for name in columns:
        values = [row.get(name) for row in rows]
        if name == "last_modified" or types.get(name) == "timestamp":
            values = [_timestamp(v) for v in values]
        elif types.get(name) == "geometry":
            values = [json.dumps(v) if v is not None else None for v in values]
        try:
            arrays[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types: keep them as text
            arrays[name] = pa.array([None if v is None else json.dumps(v) for v in values])
    pq.write_table(pa.table(arrays), output)


def _columns(rows: Iterable[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        for name in row:
            seen.setdefault(name, None)
    return list(seen)


def _cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, list | dict) else value


@click.command()
@click.option("--bucket", "buckets", multiple=True, help="Only this bucket (repeatable).")
@click.option("--filter", "filter", help="Only the objects this CQL2 filter matches.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet", "csv", "jsonl"]),
    default="jsonl",
    show_default=True,
    help="The table's format.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write (default: stdout for csv and jsonl).",
)
@remote_options
def export(
    remote: Remote,
    buckets: tuple[str, ...],
    filter: str | None,
    fmt: str,
    output: Path | None,
) -> None:
    """Write the catalog entries you may read as one table.

    One row per object, one column per system field and attribute (and meta:<name>,
    tag:<name>).

    \b
    Examples:
      $ lading catalog export --bucket datacont --format parquet -o catalog.parquet
      $ python -c "import duckdb; print(duckdb.sql(\\"SELECT * FROM 'catalog.parquet'\\"))"
      $ lading catalog export --bucket datacont --format csv > catalog.csv
    """
    from lading.client.catalog import CatalogClient

    if fmt == "parquet" and output is None:
        raise click.UsageError("parquet needs a file: give --output")
    rows: list[dict[str, Any]] = []
    types: dict[str, str] = {}
    with api_errors(), remote.client(CatalogClient) as client:
        fields = [*SYSTEM_COLUMNS, "attributes", "metadata", "tags", "attribute_types"]
        for item in client.search_all(filter, buckets=buckets, fields=fields, limit=1000):
            rows.append(flatten(item))
            types.update(item.get("attribute_types") or {})
    if fmt == "parquet":
        assert output is not None
        write_parquet(rows, types, output)
    else:
        sink = output.open("w", newline="", encoding="utf-8") if output else sys.stdout
        try:
            if fmt == "jsonl":
                for row in rows:
                    sink.write(json.dumps(row, sort_keys=False) + "\n")
            else:
                writer = csv.DictWriter(sink, fieldnames=_columns(rows) or list(SYSTEM_COLUMNS))
                writer.writeheader()
                writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
        finally:
            if output:
                sink.close()
    if output:
        click.echo(f"{len(rows)} objects written to {output}", err=True)
