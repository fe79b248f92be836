"""Run a transfer job: plan each item, copy files in parallel, retry, count, checkpoint.

Concurrency is bounded twice: `files` copies run at once (small files are bound by round
trips, so many run side by side) and `parts` part uploads run at once across all large files
(so memory is at most `parts` x part size). The planner's actions are pulled from the merged
listings only as fast as the workers take them, so a job of millions of files holds a few
thousand entries at a time. Only this module decides whether an error is retried.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from lading.transfer.accounting import EventSink, NoProgress, Progress, Stats
from lading.transfer.checkpoint import Checkpoint, MemoryCheckpoint
from lading.transfer.drivers.base import EndpointDriver, Entry, check_path, join
from lading.transfer.errors import NoSuchPath, QuotaExceeded, TransferFailure
from lading.transfer.operations import (
    DEFAULT_PART_SIZE,
    DEFAULT_UPLOAD_CUTOFF,
    Cancelled,
    CopyOptions,
    copy_one,
    md5_of,
)
from lading.transfer.plan import (
    Action,
    Compare,
    Copy,
    Delete,
    FilterRule,
    Skip,
    SyncLevel,
    decide,
    plan,
)
from lading.transfer.retry import RetryPolicy

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Item:
    """One thing to transfer: a file, or with `recursive` a directory tree."""

    source: str
    destination: str
    recursive: bool = False


@dataclass(frozen=True)
class Options:
    """A task's behaviour, in Globus's words, plus the engine's concurrency."""

    sync_level: SyncLevel | None = None
    verify_checksum: bool = True
    preserve_timestamp: bool = False
    delete_destination_extra: bool = False
    skip_source_errors: bool = False
    fail_on_quota_errors: bool = False
    filter_rules: tuple[FilterRule, ...] = ()
    dry_run: bool = False
    files: int = 16
    parts: int = 8
    part_size: int = DEFAULT_PART_SIZE
    upload_cutoff: int = DEFAULT_UPLOAD_CUTOFF  # larger files go in parts (rclone's default)


Planned = tuple[Action, str, str]  # an action and the roots of its item (source, destination)


class QuotaStop(TransferFailure):
    default_message = "The destination is out of space; the task stops (fail_on_quota_errors)."


@dataclass
class _Quiet:
    def event(self, kind: str, path: str, **details: Any) -> None:
        pass


@dataclass
class Engine:
    """Copies from `src` to `dst`; one instance runs one job (`run`)."""

    src: EndpointDriver
    dst: EndpointDriver
    options: Options = Options()
    checkpoint: Checkpoint = field(default_factory=MemoryCheckpoint)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    stats: Stats = field(default_factory=Stats)
    progress: Progress = field(default_factory=NoProgress)
    events: EventSink = field(default_factory=_Quiet)
    cancel: threading.Event = field(default_factory=threading.Event)

    def run(self, items: Iterable[Item]) -> Stats:
        """Do every item; returns the counters (failed files do not raise; cancel does)."""
        return self.execute(action for item in items for action in self.plan_items([item]))

    def plan_items(self, items: Iterable[Item]) -> Iterator[Planned]:
        """The actions of `items`, streamed from their listings (skips included)."""
        for item in items:
            yield from self._actions(item)

    def execute(self, actions: Iterable[Planned]) -> Stats:
        """Carry out planned actions with bounded concurrency; returns the counters."""
        self.stats.start()
        self._stop: BaseException | None = None
        slots = threading.BoundedSemaphore(self.options.files * 4)
        with (
            ThreadPoolExecutor(self.options.files, "lading-file") as files,
            ThreadPoolExecutor(self.options.parts, "lading-part") as self._parts,
        ):
            try:
                for action, src_root, dst_root in actions:
                    self._raise_if_stopped()
                    if isinstance(action, Skip):  # no I/O: not worth a thread hand-off
                        self._do(action, src_root, dst_root)
                        continue
                    slots.acquire()
                    future = files.submit(self._do, action, src_root, dst_root)
                    future.add_done_callback(self._released(slots))
            except BaseException:
                self.cancel.set()
                raise
            finally:
                files.shutdown(wait=True)
        self.stats.finish()
        self._raise_if_stopped()
        return self.stats

    def _released(self, slots: threading.BoundedSemaphore) -> Any:
        def done(future: Future[None]) -> None:
            slots.release()
            error = future.exception()
            if error is not None and self._stop is None:
                self._stop = error
                self.cancel.set()

        return done

    def _raise_if_stopped(self) -> None:
        if self._stop is not None:
            raise self._stop
        if self.cancel.is_set():
            raise Cancelled()

    # --- planning --------------------------------------------------------------------------

    def _actions(self, item: Item) -> Iterator[Planned]:
        opts = self.options
        src_root = check_path(item.source, allow_root=True)
        dst_root = check_path(item.destination, allow_root=item.recursive)
        if not item.recursive:
            try:
                src_entry = self.src.stat(src_root)
            except NoSuchPath:
                if not opts.skip_source_errors:
                    raise
                self._skipped_source(src_root, "missing")
                return
            dst_entry = self._stat_or_none(dst_root)
            entry = Entry("", src_entry.size, src_entry.mtime, src_entry.checksum)
            other = None
            if dst_entry is not None:
                other = Entry("", dst_entry.size, dst_entry.mtime, dst_entry.checksum)
            action = decide("", entry, other, opts.sync_level)
            self._planned(action)
            yield action, src_root, dst_root
            return
        if not opts.dry_run:
            self.dst.mkdir(dst_root)
        src_list = _relative(self.src.list(src_root), src_root)
        dst_list = _relative(self.dst.list(dst_root), dst_root)
        for action in plan(
            src_list,
            dst_list,
            sync_level=opts.sync_level,
            delete_extra=opts.delete_destination_extra,
            filter_rules=opts.filter_rules,
        ):
            self._planned(action)
            yield action, src_root, dst_root

    def _stat_or_none(self, path: str) -> Entry | None:
        try:
            return self.dst.stat(path)
        except NoSuchPath:
            return None

    def _planned(self, action: Any) -> None:
        if isinstance(action, Copy | Compare):
            self.stats.add(files_planned=1, bytes_planned=action.src.size)
            self.progress.planned(1, action.src.size)

    # --- doing -----------------------------------------------------------------------------

    def _do(self, action: Any, src_root: str, dst_root: str) -> None:
        src_path = join(src_root, action.path)
        dst_path = join(dst_root, action.path)
        if isinstance(action, Skip):
            self._skip(dst_path, action.src.size, action.reason)
            return
        if isinstance(action, Delete):
            if not self.options.dry_run:
                self._retrying(dst_path, lambda: self.dst.delete(dst_path))
            self.stats.add(files_deleted=1)
            self.events.event("deleted", dst_path, dry_run=self.options.dry_run)
            return
        src_entry = Entry(src_path, action.src.size, action.src.mtime, action.src.checksum)
        try:
            if isinstance(action, Compare):
                dst_entry = Entry(dst_path, action.dst.size, action.dst.mtime, action.dst.checksum)
                same = self._retrying(
                    src_path, lambda: md5_of(self.src, src_entry) == md5_of(self.dst, dst_entry)
                )
                if same:
                    self.progress.moved(action.src.size)
                    self._skip(dst_path, action.src.size, "same checksum")
                    return
            if self.options.dry_run:
                self.stats.add(files_copied=1, bytes_copied=src_entry.size)
                self.progress.moved(src_entry.size)
                self.events.event("copied", dst_path, size=src_entry.size, dry_run=True)
                return
            self._copy(src_entry, dst_path)
        except Cancelled:
            raise
        except QuotaExceeded as exc:
            self._failed(dst_path, exc)
            if self.options.fail_on_quota_errors:
                raise QuotaStop() from exc
        except TransferFailure as exc:
            if self.options.skip_source_errors and _is_source_error(exc, src_path):
                self._skipped_source(dst_path, exc.message)
                return
            self._failed(dst_path, exc)

    def _copy(self, entry: Entry, dst_path: str) -> None:
        sent = [0]

        def moved(n: int) -> None:
            sent[0] += n
            self.progress.moved(n)

        opts = self.options
        copy_options = CopyOptions(
            opts.part_size, opts.verify_checksum, opts.preserve_timestamp, opts.upload_cutoff
        )
        result = self._retrying(
            dst_path,
            lambda: copy_one(
                self.src,
                entry,
                self.dst,
                dst_path,
                options=copy_options,
                parts=self._parts,
                checkpoint=self.checkpoint,
                moved=moved,
                cancel=self.cancel,
                retry_part=lambda fn: self._retrying(dst_path, fn),
            ),
        )
        self.stats.add(files_copied=1, bytes_copied=entry.size, bytes_transferred=sent[0])
        self.progress.finished_file(dst_path, "copied")
        self.events.event(
            "copied",
            dst_path,
            size=entry.size,
            checksum=result.checksum,
            server_side=result.server_side,
            parts_resumed=result.parts_resumed,
        )

    def _retrying(self, path: str, fn: Any) -> Any:
        def on_retry(attempt: int, exc: BaseException) -> None:
            self.stats.add(retries=1)
            self.events.event("retry", path, attempt=attempt, error=str(exc))
            log.debug("retrying %s (attempt %d): %s", path, attempt, exc)

        return self.retry.call(fn, on_retry)

    def _skip(self, path: str, size: int, reason: str) -> None:
        self.stats.add(files_skipped=1, bytes_skipped=size)
        self.progress.finished_file(path, "skipped")
        self.events.event("skipped", path, reason=reason)

    def _skipped_source(self, path: str, reason: str) -> None:
        self.stats.add(files_skipped=1)
        self.events.event("skipped", path, reason=f"source error: {reason}")

    def _failed(self, path: str, exc: TransferFailure) -> None:
        self.stats.add(files_failed=1)
        self.progress.finished_file(path, "failed")
        self.events.event("failed", path, error=exc.message, error_type=type(exc).__name__)
        log.info("failed %s: %s", path, exc.message)


def _relative(entries: Iterable[Entry], root: str) -> Iterator[Entry]:
    cut = len(root) + 1 if root else 0
    for e in entries:
        yield Entry(e.path[cut:], e.size, e.mtime, e.checksum)


def _is_source_error(exc: TransferFailure, src_path: str) -> bool:
    return isinstance(exc, NoSuchPath) and exc.path == src_path


__all__ = ["Engine", "Item", "Options", "QuotaStop"]
