"""What `lading cp` and `lading sync` share: locations, options, the progress bar, the summary.

Both run the transfer engine in the CLI process. A location is a local path,
`s3://BUCKET/PREFIX` on the S3 endpoint the CLI talks to (`--endpoint`, LADING_ENDPOINT, or
AWS_ENDPOINT_URL; credentials from the usual AWS sources), or `ENDPOINT:PATH`, a registered
endpoint of the caller, reached through that server's relay routes (its credentials, and the
confinement of a POSIX root, stay on the server). The progress bar is rich's: it
shows files, bytes, rate and ETA in columns and takes updates from the engine's worker
threads, which click's progressbar (one length, one thread) does not.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from lading.transfer.accounting import Stats
    from lading.transfer.drivers.base import EndpointDriver

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_ENDPOINT = "http://127.0.0.1:9000"
_ENDPOINT_PATH = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*:(?!//)")
SYNC_LEVELS = ("exists", "size", "mtime", "checksum")


@dataclass(frozen=True)
class Location:
    """A parsed SRC or DST: local, S3 (`bucket`) or a registered endpoint (`endpoint`)."""

    text: str
    path: str  # local: the path as given; S3: the key prefix; endpoint: the path in it
    bucket: str | None = None
    endpoint: str | None = None

    @property
    def is_local(self) -> bool:
        return self.bucket is None and self.endpoint is None

    @property
    def is_dir_hint(self) -> bool:
        return self.text.endswith("/") or (self.is_local and Path(self.path).is_dir())


def parse_location(text: str) -> Location:
    """`s3://BUCKET/PREFIX`, `ENDPOINT:PATH` or a local path; UsageError for anything else.

    A local path that looks like ENDPOINT:PATH is taken as local when it exists (or write
    ./NAME:PATH).
    """
    if text.startswith("s3://"):
        bucket, _, key = text[5:].partition("/")
        if not bucket:
            raise click.UsageError(f"{text!r}: name a bucket (s3://BUCKET/PREFIX)")
        return Location(text, key, bucket)
    if "://" in text:
        raise click.UsageError(
            f"{text!r}: only local paths, s3://BUCKET/PREFIX and ENDPOINT:PATH are supported"
        )
    if _ENDPOINT_PATH.match(text) and not os.path.exists(text):
        name, _, path = text.partition(":")
        return Location(text, path, endpoint=name)
    return Location(text, text)


def copy_options(func: F) -> F:
    """The flags `cp` and `sync` share (Globus's names where it has one)."""
    options = [
        click.option(
            "--endpoint",
            envvar=["LADING_ENDPOINT", "AWS_ENDPOINT_URL"],
            default=DEFAULT_ENDPOINT,
            show_default=True,
            help="URL of the S3 server that s3:// locations live on "
            "(env LADING_ENDPOINT or AWS_ENDPOINT_URL).",
        ),
        click.option("--region", envvar="AWS_DEFAULT_REGION", help="Region to sign for."),
        click.option(
            "--delete",
            "--delete-destination-extra",
            "delete_extra",
            is_flag=True,
            help="Delete destination files that are not in the source.",
        ),
        click.option("--exclude", multiple=True, metavar="GLOB", help="Skip files matching GLOB."),
        click.option(
            "--filter",
            "filters",
            multiple=True,
            metavar="'+ GLOB' | '- GLOB'",
            help="Include (+) or exclude (-) files matching GLOB; rules apply in order, the "
            "first match wins, --exclude rules come after them. A GLOB with '/' matches the "
            "relative path, one without the file name.",
        ),
        click.option("--dry-run", is_flag=True, help="Show what would change; change nothing."),
        click.option(
            "--no-verify",
            "no_verify",
            is_flag=True,
            help="Do not read back files whose destination reports no checksum.",
        ),
        click.option("--preserve-timestamp", is_flag=True, help="Give copies the source's mtime."),
        click.option(
            "--skip-source-errors",
            is_flag=True,
            help="Skip source files that vanish or cannot be read instead of failing.",
        ),
        click.option(
            "--fail-on-quota-errors",
            is_flag=True,
            help="Stop at once when the destination is full.",
        ),
        click.option(
            "--deadline",
            metavar="ISO8601",
            help="Give up retrying after this moment (UTC unless an offset is given).",
        ),
        click.option(
            "--transfers", default=16, show_default=True, help="Files copied in parallel."
        ),
        click.option(
            "--parts",
            default=4,
            show_default=True,
            help="Parts of large files sent in parallel (memory: parts x part size).",
        ),
        click.option(
            "--part-size",
            default=16,
            show_default=True,
            metavar="MiB",
            help="Part size of large files, in MiB.",
        ),
        click.option(
            "--upload-cutoff",
            default=200,
            show_default=True,
            metavar="MiB",
            help="Files up to this size go in one streamed write; larger ones in parts.",
        ),
        click.option(
            "--checkpoint-dir",
            type=click.Path(file_okay=False, path_type=Path),
            help="Where finished parts of large files are recorded, so that a copy that is "
            "interrupted and run again resumes [default: ~/.cache/lading/transfers].",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print a JSON summary."),
        click.option("--quiet", "-q", is_flag=True, help="No progress bar."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _deadline(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 moment", param_hint="--deadline"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def _filters(filters: tuple[str, ...], exclude: tuple[str, ...]) -> tuple[Any, ...]:
    from lading.transfer.plan import FilterRule

    rules = []
    for text in filters:
        sign, _, glob = text.strip().partition(" ")
        if sign not in ("+", "-") or not glob.strip():
            raise click.BadParameter(f"{text!r}: write '+ GLOB' or '- GLOB'", param_hint="--filter")
        rules.append(FilterRule("include" if sign == "+" else "exclude", glob.strip()))
    rules += [FilterRule("exclude", glob) for glob in exclude]
    return tuple(rules)


def _driver(loc: Location, root: str, opts: dict[str, Any], *, create: bool) -> EndpointDriver:
    """The driver for a location; local roots are created when they are a destination."""
    from lading.transfer.drivers.local import LocalDriver
    from lading.transfer.drivers.s3 import S3Driver, make_client

    if loc.endpoint is not None:
        return _relay(loc.endpoint, opts)
    if loc.bucket is not None:
        client = make_client(
            opts["endpoint"],
            region=opts["region"],
            max_connections=opts["transfers"] + opts["parts"] + 2,
        )
        return S3Driver(client, loc.bucket, "", endpoint_url=opts["endpoint"])
    if create:
        Path(root).mkdir(parents=True, exist_ok=True)
    return LocalDriver(Path(root))


def _relay(name: str, opts: dict[str, Any]) -> EndpointDriver:
    """The driver of the caller's endpoint `name` through the server; ClickException if the
    caller has no such endpoint."""
    from lading.cli.remote import api_errors, find_remote
    from lading.client.errors import NotFoundError
    from lading.client.transfers import TransferClient
    from lading.transfer.drivers.relay import RelayDriver

    client = find_remote(opts["endpoint"], None).client(TransferClient)
    with api_errors():
        try:
            client.get_endpoint(name)
        except NotFoundError:
            client.close()
            raise click.ClickException(
                f"{name!r} is not one of your endpoints on {opts['endpoint']} "
                "(see `lading endpoint list`)"
            ) from None
    return RelayDriver(client, name)


def resolve(src: Location, dst: Location, recursive: bool, opts: dict[str, Any]) -> Any:
    """(source driver, destination driver, item) for SRC and DST."""
    from lading.transfer.drivers.base import check_path
    from lading.transfer.engine import Item
    from lading.transfer.errors import InvalidPath

    try:
        if src.is_local:
            source = Path(src.path).resolve()
            if recursive:
                if not source.is_dir():
                    raise click.UsageError(f"{src.text}: not a directory")
                src_root, src_path = str(source), ""
            else:
                if source.is_dir():
                    raise click.UsageError(
                        f"{src.text} is a directory: use --recursive (or lading sync)"
                    )
                if not source.is_file():
                    raise click.UsageError(f"{src.text}: no such file")
                src_root, src_path = str(source.parent), source.name
        else:
            src_root, src_path = "", check_path(src.path, allow_root=recursive)
        name = src_path.rpartition("/")[2] or Path(src.path).name
        if dst.is_local:
            target = Path(dst.path).resolve()
            if recursive:
                dst_root, dst_path = str(target), ""
            elif dst.is_dir_hint:
                dst_root, dst_path = str(target), name
            else:
                dst_root, dst_path = str(target.parent), target.name
        else:
            dst_root = ""
            dst_path = check_path(dst.path, allow_root=True)
            if not recursive and (dst.is_dir_hint or not dst_path):
                dst_path = f"{dst_path}/{name}" if dst_path else name
    except InvalidPath as exc:
        raise click.UsageError(exc.message) from exc
    src_driver = _driver(src, src_root, opts, create=False)
    dst_driver = _driver(dst, dst_root, opts, create=not opts["dry_run"])
    return src_driver, dst_driver, Item(src_path, dst_path, recursive)


class Bar:
    """The engine's Progress as a rich progress bar on stderr (files, bytes, rate, ETA)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self.files_total = 0
        self.files_done = 0
        self.progress = Progress(
            TextColumn("{task.fields[files]}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self.task = self.progress.add_task("transfer", total=0, files="0/0 files")

    def planned(self, files: int, size: int) -> None:
        self.files_total += files
        self.progress.update(self.task, total=(self.progress.tasks[0].total or 0) + size)
        self._files()

    def moved(self, nbytes: int) -> None:
        self.progress.advance(self.task, nbytes)

    def finished_file(self, path: str, outcome: str) -> None:
        self.files_done += 1
        self._files()

    def _files(self) -> None:
        self.progress.update(self.task, files=f"{self.files_done}/{self.files_total} files")


def run(
    src_text: str, dst_text: str, *, recursive: bool, sync_level: str | None, **opts: Any
) -> None:
    """Parse, run the engine, print the summary; exit 1 when a file failed."""
    from lading.transfer.accounting import EventList, NoProgress
    from lading.transfer.checkpoint import FileCheckpoint
    from lading.transfer.engine import Engine, Options
    from lading.transfer.errors import TransferFailure
    from lading.transfer.plan import SyncLevel
    from lading.transfer.retry import RetryPolicy

    src, dst = parse_location(src_text), parse_location(dst_text)
    if opts["transfers"] < 1 or opts["parts"] < 1 or opts["part_size"] < 1:
        raise click.UsageError("--transfers, --parts and --part-size must be at least 1")
    if opts["upload_cutoff"] < 0:
        raise click.UsageError("--upload-cutoff must be at least 0")
    options = Options(
        sync_level=SyncLevel(sync_level) if sync_level else None,
        verify_checksum=not opts["no_verify"],
        preserve_timestamp=opts["preserve_timestamp"],
        delete_destination_extra=opts["delete_extra"],
        skip_source_errors=opts["skip_source_errors"],
        fail_on_quota_errors=opts["fail_on_quota_errors"],
        filter_rules=_filters(opts["filters"], opts["exclude"]),
        dry_run=opts["dry_run"],
        files=opts["transfers"],
        parts=opts["parts"],
        part_size=opts["part_size"] * 1024 * 1024,
        upload_cutoff=opts["upload_cutoff"] * 1024 * 1024,
    )
    deadline = _deadline(opts["deadline"])
    checkpoints = opts["checkpoint_dir"] or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "lading", "transfers"
    )
    events = EventList()
    show_bar = not (opts["quiet"] or opts["as_json"]) and sys.stderr.isatty()
    bar = Bar() if show_bar else None
    try:
        src_driver, dst_driver, item = resolve(src, dst, recursive, opts)
        engine = Engine(
            src_driver,
            dst_driver,
            options,
            checkpoint=FileCheckpoint(Path(checkpoints)),
            retry=RetryPolicy(deadline=deadline),
            progress=bar or NoProgress(),
            events=events,
        )
        if bar is not None:
            with bar.progress:
                stats = engine.run([item])
        else:
            stats = engine.run([item])
    except TransferFailure as exc:
        raise click.ClickException(exc.message) from exc
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    summary(stats, events.of_kind("failed"), as_json=opts["as_json"], dry_run=opts["dry_run"])
    if stats.files_failed:
        raise SystemExit(1)


def summary(stats: Stats, failed: list[dict[str, Any]], *, as_json: bool, dry_run: bool) -> None:
    if as_json:
        found = stats.as_dict()
        found["dry_run"] = dry_run
        found["failures"] = [{"path": f["path"], "error": f["error"]} for f in failed[:100]]
        click.echo(json.dumps(found))
        return
    for f in failed[:20]:
        click.echo(f"failed: {f['path']}: {f['error']}", err=True)
    verb = "would copy" if dry_run else "copied"
    click.echo(
        f"{verb} {stats.files_copied} files ({_size(stats.bytes_copied)}), "
        f"skipped {stats.files_skipped}, deleted {stats.files_deleted}, "
        f"failed {stats.files_failed}, retries {stats.retries}, "
        f"in {stats.elapsed:.1f}s ({_size(int(stats.throughput))}/s)"
    )


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"
