"""`lading catalog ingest`: upload a table's files and describe each with its row."""

from __future__ import annotations

import csv
import hashlib
import json
import mimetypes
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lading.cli.commands.catalog._values import column_name, guess
from lading.cli.remote import Remote, api_errors, remote_options

if TYPE_CHECKING:
    from lading.client._objects import ObjectUploads
    from lading.client.catalog import CatalogClient

MAX_SINGLE_PUT = 5 * 1024**3  # S3's limit for one PUT


@dataclass
class Row:
    line: int
    file: str
    attributes: dict[str, Any]


@dataclass
class Report:
    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # same checksum already there
    missing: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)


def read_rows(table: Path | None, files: Path, file_column: str, columns: str | None) -> list[Row]:
    """The table's rows (or one per file under `files` without a table)."""
    if table is None:
        return [
            Row(0, p.relative_to(files).as_posix(), {})
            for p in sorted(files.rglob("*"))
            if p.is_file()
        ]
    with table.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = [c.strip() for c in columns.split(",")] if columns else next(reader, [])
        names = [column_name(h) for h in header]
        wanted = column_name(file_column)
        if wanted not in names:
            raise click.UsageError(
                f"no column {file_column!r} in {', '.join(names) or 'an empty table'}: "
                "name the file column with --file-column, or the columns with --columns"
            )
        rows = []
        first_line = 1 if columns else 2
        for number, values in enumerate(reader, start=first_line):
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(names):
                raise click.UsageError(
                    f"{table}:{number}: {len(values)} values for {len(names)} columns"
                )
            record = {n: v.strip() for n, v in zip(names, values, strict=True)}
            filename = record.pop(wanted)
            attributes = {n: guess(v) for n, v in record.items() if v != ""}
            rows.append(Row(number, filename, attributes))
        return rows


def md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ingest_one(
    row: Row,
    path: Path,
    key: str,
    bucket: str,
    sidecar: str | None,
    uploads: ObjectUploads,
    catalog: CatalogClient,
) -> str:
    """Upload (unless the same bytes are there) and describe one file; "uploaded"/"skipped"."""
    attributes = dict(row.attributes)
    if sidecar:
        described = path.with_name(sidecar.format(name=path.name, stem=path.stem))
        if described.exists():
            extra = json.loads(described.read_text())
            if not isinstance(extra, dict):
                raise ValueError(f"{described}: a sidecar holds one JSON object")
            attributes.update({column_name(k): v for k, v in extra.items()})
    if path.stat().st_size > MAX_SINGLE_PUT:
        raise ValueError(f"{path}: larger than one PUT takes (5 GiB)")
    outcome = "skipped"
    if uploads.etag(bucket, key) != md5_of(path):
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        uploads.put(bucket, key, path.read_bytes(), content_type)
        outcome = "uploaded"
    catalog.set_attributes(bucket, key, attributes, replace=True)
    return outcome


@click.command()
@click.argument(
    "table", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--files",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The directory the table's file names are relative to.",
)
@click.option("--bucket", required=True, help="The bucket to upload into.")
@click.option(
    "--file-column",
    default="filename",
    show_default=True,
    help="The column naming each row's file.",
)
@click.option("--columns", help="Column names, comma-separated, for a table without a header.")
@click.option(
    "--sidecar",
    help="Also read attributes from a JSON file per data file, "
    "e.g. '{name}.json' or '{stem}.meta.json'.",
)
@click.option("--prefix", default="", help="Put the objects under this key prefix.")
@click.option(
    "--workers", type=click.IntRange(1, 64), default=8, show_default=True, help="Parallel uploads."
)
@remote_options
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def ingest(
    remote: Remote,
    table: Path | None,
    files: Path,
    bucket: str,
    file_column: str,
    columns: str | None,
    sidecar: str | None,
    prefix: str,
    workers: int,
    as_json: bool,
) -> None:
    """Upload the files a CSV TABLE names, each described by its row.

    The row's other columns become attributes (numbers and ISO dates typed as such). A
    re-run skips files whose bytes are already there (same MD5); rows naming a missing file
    are reported, not fatal. Without TABLE, every file under --files goes in.

    \b
    Example:
      $ lading catalog ingest experiments.csv --files ./datafiles --bucket datacont
      uploaded 4, skipped 0, missing 0, failed 0
      $ lading catalog ingest experiments.csv --files ./datafiles --bucket datacont \\
          --columns item_id,experiment_id,date,filename,comment
    """
    from lading.client._objects import ObjectUploads
    from lading.client.catalog import CatalogClient
    from lading.client.errors import LadingClientError

    rows = read_rows(table, files, file_column, columns)
    report = Report()
    jobs: list[tuple[Row, Path, str]] = []
    for row in rows:
        path = files / row.file
        if not path.is_file():
            report.missing.append({"line": row.line, "file": row.file})
        else:
            jobs.append((row, path, prefix + Path(row.file).as_posix()))
    with api_errors(), remote.client(CatalogClient) as catalog:
        assert remote.access_key and remote.secret_key  # remote.client checked them
        uploads = ObjectUploads(
            remote.endpoint,
            access_key=remote.access_key,
            secret_key=remote.secret_key,
            region=remote.region,
        )
        try:
            with (
                ThreadPoolExecutor(workers) as pool,
                click.progressbar(length=len(jobs), label="ingesting", file=sys.stderr) as bar,
            ):
                futures = {
                    pool.submit(ingest_one, row, path, key, bucket, sidecar, uploads, catalog): (
                        row,
                        key,
                    )
                    for row, path, key in jobs
                }
                for future in as_completed(futures):
                    row, key = futures[future]
                    try:
                        outcome = future.result()
                    except (LadingClientError, OSError, ValueError) as exc:  # reported, not fatal
                        report.failed.append(
                            {"line": row.line, "file": row.file, "error": str(exc)}
                        )
                    else:
                        (report.uploaded if outcome == "uploaded" else report.skipped).append(key)
                    bar.update(1)
        finally:
            uploads.close()
    if as_json:
        click.echo(json.dumps(report.__dict__, indent=2, sort_keys=True))
    else:
        for item in report.missing:
            click.echo(f"missing: line {item['line']}: {item['file']}", err=True)
        for item in report.failed:
            click.echo(f"failed: line {item['line']}: {item['file']}: {item['error']}", err=True)
        click.echo(
            f"uploaded {len(report.uploaded)}, skipped {len(report.skipped)}, "
            f"missing {len(report.missing)}, failed {len(report.failed)}"
        )
    if report.failed:
        sys.exit(1)
