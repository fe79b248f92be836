"""The engine over real in-memory and local drivers, with faults injected by a wrapper."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from lading.testing.faults import Fault, FaultyDriver, http_500, http_503, reset
from lading.transfer.accounting import EventList
from lading.transfer.checkpoint import FileCheckpoint, MemoryCheckpoint
from lading.transfer.drivers.base import EndpointDriver
from lading.transfer.drivers.local import LocalDriver
from lading.transfer.drivers.memory import MemoryDriver
from lading.transfer.engine import Engine, Item, Options, QuotaStop
from lading.transfer.errors import EndpointAccessDenied, QuotaExceeded
from lading.transfer.operations import Cancelled
from lading.transfer.plan import FilterRule, SyncLevel
from lading.transfer.retry import RetryPolicy

PART = 1024


def no_wait() -> RetryPolicy:
    return RetryPolicy(sleep=lambda _: None)


def fill(driver: EndpointDriver, files: dict[str, bytes]) -> None:
    for path, data in files.items():
        driver.write(path, [data], size=len(data))


def contents(driver: EndpointDriver, under: str = "") -> dict[str, bytes]:
    return {e.path: b"".join(driver.open_read(e.path)) for e in driver.list(under)}


TREE = {
    "src/a.txt": b"alpha",
    "src/sub/b.bin": os.urandom(5 * PART + 17),  # multipart: 6 parts
    "src/sub/c": b"",
    "src/z": os.urandom(PART),
}


def tree() -> dict[str, bytes]:
    return dict(TREE)


def engine(src: EndpointDriver, dst: EndpointDriver, **options: object) -> Engine:
    opts = Options(files=4, parts=2, part_size=PART, upload_cutoff=PART, **options)  # type: ignore[arg-type]
    return Engine(src, dst, opts, retry=no_wait(), events=EventList())


def test_a_tree_is_copied_byte_for_byte() -> None:
    src, dst = MemoryDriver(), MemoryDriver()
    fill(src, tree())
    stats = engine(src, dst).run([Item("src", "dst", recursive=True)])
    assert contents(dst) == {p.replace("src/", "dst/", 1): d for p, d in tree().items()}
    assert (stats.files_copied, stats.files_failed, stats.retries) == (4, 0, 0)
    assert stats.bytes_copied == stats.bytes_transferred == sum(map(len, tree().values()))


def test_a_single_file_item() -> None:
    src, dst = MemoryDriver(), MemoryDriver()
    fill(src, {"one/file": b"data"})
    engine(src, dst).run([Item("one/file", "elsewhere/renamed")])
    assert contents(dst) == {"elsewhere/renamed": b"data"}


@pytest.mark.parametrize(
    "fault",
    [
        Fault("open_read", times=2, error=reset),
        Fault("write", times=2, error=http_500),
        Fault("write_part", times=3, error=http_503),
        Fault("open_read", times=2, truncate=True),
        Fault("write", times=1, corrupt=True),
        Fault("write_part", times=2, corrupt=True),
        Fault("complete_multipart", times=1, error=reset),
        Fault("stat", times=1, error=reset, path="x"),  # never hit: stat is not used
    ],
    ids=lambda f: (
        f"{f.op}-{f.times}-{'truncate' if f.truncate else ''}"
        f"{'corrupt' if f.corrupt else ''}{f.error.__name__ if f.error else ''}"
    ),
)
def test_faults_are_retried_until_the_destination_is_identical(fault: Fault) -> None:
    src, dst = MemoryDriver(), MemoryDriver()
    fill(src, tree())
    faulty_src = FaultyDriver(src, [fault] if fault.op == "open_read" else [])
    faulty_dst = FaultyDriver(dst, [] if fault.op == "open_read" else [fault])
    e = engine(faulty_src, faulty_dst, verify_checksum=True)
    stats = e.run([Item("src", "src", recursive=True)])
    assert contents(dst) == tree()
    assert stats.files_failed == 0
    injected = faulty_src.injected + faulty_dst.injected
    assert len(e.events.of_kind("retry")) == stats.retries  # type: ignore[attr-defined]
    if fault.corrupt:  # found when the file is complete: parts corrupted together, one retry
        assert 1 <= stats.retries <= injected
    else:
        assert stats.retries == injected


def test_a_corrupted_destination_is_detected_when_the_store_reports_no_checksum(
    tmp_path: Path,
) -> None:
    src = MemoryDriver()
    fill(src, tree())
    dst = FaultyDriver(LocalDriver(tmp_path), [Fault("write", corrupt=True, path="a.txt")])
    stats = engine(src, dst).run([Item("src", "", recursive=True)])
    assert stats.retries == 1 and stats.files_failed == 0
    assert (tmp_path / "a.txt").read_bytes() == b"alpha"


def test_fatal_errors_fail_the_file_at_once_and_the_rest_goes_on() -> None:
    src, dst = MemoryDriver(), MemoryDriver()
    fill(src, tree())
    faulty = FaultyDriver(dst, [Fault("write", times=99, path="a.txt", error=EndpointAccessDenied)])
    e = engine(src, faulty)
    stats = e.run([Item("src", "src", recursive=True)])
    assert (stats.files_copied, stats.files_failed, stats.retries) == (3, 1, 0)
    assert "src/a.txt" not in contents(dst)
    [failed] = e.events.of_kind("failed")  # type: ignore[attr-defined]
    assert failed["path"] == "src/a.txt" and failed["error_type"] == "EndpointAccessDenied"


def test_retries_give_up_after_max_attempts() -> None:
    src, dst = MemoryDriver(), MemoryDriver()
    fill(src, {"f": b"x"})
    faulty = FaultyDriver(dst, [Fault("write", times=99, error=http_503)])
    e = Engine(src, faulty, Options(), retry=RetryPolicy(max_attempts=4, sleep=lambda _: None))
    stats = e.run([Item("f", "f")])
    assert (stats.files_failed, stats.retries) == (1, 3)


def test_quota_errors_stop_the_task_when_asked() -> None:
    src, dst = MemoryDriver(), MemoryDriver()
    fill(src, {"f": b"x"})
    faulty = FaultyDriver(dst, [Fault("write", times=9, error=QuotaExceeded)])
    assert engine(src, faulty).run([Item("f", "f")]).files_failed == 1
    with pytest.raises(QuotaStop):
        engine(src, faulty, fail_on_quota_errors=True).run([Item("f", "f")])


def test_a_missing_source_is_skipped_with_skip_source_errors() -> None:
    src, dst = MemoryDriver(), MemoryDriver()
    fill(src, {"here": b"x"})
    items = [Item("gone", "gone"), Item("here", "here")]
    stats = engine(src, dst, skip_source_errors=True).run(items)
    assert (stats.files_copied, stats.files_skipped) == (1, 1)
    with pytest.raises(Exception, match="gone: no such file"):
        engine(src, dst).run(items)


def test_sync_deletes_extras_and_skips_what_is_current() -> None:
    src, dst = MemoryDriver(), MemoryDriver()
    fill(src, {"s/keep": b"same", "s/new": b"new", "s/changed": b"longer now"})
    fill(dst, {"d/keep": b"same", "d/changed": b"short", "d/extra": b"x", "d/x.log": b"log"})
    rules = (FilterRule("exclude", "*.log"),)
    stats = engine(
        src,
        dst,
        sync_level=SyncLevel.SIZE,
        delete_destination_extra=True,
        filter_rules=rules,
    ).run([Item("s", "d", recursive=True)])
    assert contents(dst) == {
        "d/changed": b"longer now",
        "d/keep": b"same",
        "d/new": b"new",
        "d/x.log": b"log",
    }
    assert (stats.files_copied, stats.files_skipped, stats.files_deleted) == (2, 1, 1)


def test_dry_run_changes_nothing() -> None:
    src, dst = MemoryDriver(), MemoryDriver()
    fill(src, {"s/a": b"a"})
    fill(dst, {"d/b": b"b"})
    stats = engine(src, dst, delete_destination_extra=True, dry_run=True).run(
        [Item("s", "d", recursive=True)]
    )
    assert contents(dst) == {"d/b": b"b"}
    assert (stats.files_copied, stats.files_deleted, stats.bytes_transferred) == (1, 1, 0)


def test_checksum_level_hashes_what_the_listing_does_not_tell(tmp_path: Path) -> None:
    src, dst = MemoryDriver(), LocalDriver(tmp_path)
    fill(src, {"a": b"same", "b": b"diff"})
    fill(dst, {"a": b"same", "b": b"DIFF"})
    stats = engine(src, dst, sync_level=SyncLevel.CHECKSUM).run([Item("", "", recursive=True)])
    assert (stats.files_skipped, stats.files_copied) == (1, 1)
    assert (tmp_path / "b").read_bytes() == b"diff"


def test_timestamps_are_preserved_when_asked(tmp_path: Path) -> None:
    src = MemoryDriver()
    src.write("f", [b"x"], size=1, mtime=1_500_000_000.0)
    engine(src, LocalDriver(tmp_path), preserve_timestamp=True).run([Item("f", "f")])
    assert os.stat(tmp_path / "f").st_mtime == 1_500_000_000.0
    stats = engine(src, LocalDriver(tmp_path), sync_level=SyncLevel.MTIME).run([Item("f", "f")])
    assert stats.files_skipped == 1


def test_same_store_copies_are_server_side() -> None:
    store = MemoryDriver()
    fill(store, tree())
    e = engine(store, store)
    stats = e.run([Item("src", "copy", recursive=True)])
    assert stats.files_copied == 4 and stats.bytes_transferred == 0
    assert all(ev["server_side"] for ev in e.events.of_kind("copied"))  # type: ignore[attr-defined]
    assert contents(store, "copy") == {p.replace("src/", "copy/"): d for p, d in tree().items()}


@pytest.mark.parametrize("keep", ["memory", "file"])
def test_an_interrupted_multipart_copy_resumes_from_its_last_part(
    keep: str, tmp_path: Path
) -> None:
    data = os.urandom(10 * PART)
    (tmp_path / "dst").mkdir()
    src, dst = MemoryDriver(), LocalDriver(tmp_path / "dst")
    fill(src, {"big": data})
    checkpoint = MemoryCheckpoint() if keep == "memory" else FileCheckpoint(tmp_path / "cp")

    class StopAtSeven(FaultyDriver):
        def write_part(
            self, path: str, upload_id: str, number: int, offset: int, data: bytes, md5: str = ""
        ):  # type: ignore[no-untyped-def]
            if number == 7:
                raise EndpointAccessDenied()
            return super().write_part(path, upload_id, number, offset, data, md5)

    # part 7 is refused for good: the first run stops there, after parts 1-6
    opts = Options(files=1, parts=1, part_size=PART, upload_cutoff=PART)
    first = Engine(src, StopAtSeven(dst), opts, checkpoint, no_wait())
    assert first.run([Item("big", "big")]).files_failed == 1
    second = Engine(src, dst, opts, checkpoint, no_wait())
    stats = second.run([Item("big", "big")])
    assert (tmp_path / "dst" / "big").read_bytes() == data
    assert stats.bytes_transferred == 4 * PART  # parts 7-10 only
    assert checkpoint.load(f"{dst.identity}|big") is None  # dropped once complete


def test_a_changed_source_starts_its_multipart_copy_again() -> None:
    src, dst = MemoryDriver(), MemoryDriver()
    checkpoint = MemoryCheckpoint()
    fill(src, {"big": b"1" * 4 * PART})

    class StopAtThree(FaultyDriver):
        def write_part(
            self, path: str, upload_id: str, number: int, offset: int, data: bytes, md5: str = ""
        ):  # type: ignore[no-untyped-def]
            if number == 3:
                raise EndpointAccessDenied()
            return super().write_part(path, upload_id, number, offset, data, md5)

    opts = Options(files=1, parts=1, part_size=PART, upload_cutoff=PART)
    Engine(src, StopAtThree(dst), opts, checkpoint, no_wait()).run([Item("big", "big")])
    fill(src, {"big": b"2" * 4 * PART})
    stats = Engine(src, dst, opts, checkpoint, no_wait()).run([Item("big", "big")])
    assert stats.bytes_transferred == 4 * PART
    assert contents(dst) == {"big": b"2" * 4 * PART}


def test_cancel_stops_the_job() -> None:
    src, dst = MemoryDriver(), MemoryDriver()
    fill(src, {f"f{i:03d}": b"x" for i in range(50)})
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        Engine(src, dst, Options(), cancel=cancel).run([Item("", "", recursive=True)])
    assert len(contents(dst)) < 50


def test_the_recorded_checksum_is_the_sources_md5() -> None:
    src, dst = MemoryDriver(), MemoryDriver()
    fill(src, {"f": b"payload"})
    e = engine(src, dst)
    e.run([Item("f", "g")])
    [copied] = e.events.of_kind("copied")  # type: ignore[attr-defined]
    assert copied["checksum"] == "md5:" + hashlib.md5(b"payload").hexdigest()


class CountingDriver(FaultyDriver):
    """Counts single writes and multipart uploads."""

    def __init__(self, inner: EndpointDriver) -> None:
        super().__init__(inner, [])
        self.writes: list[str] = []
        self.uploads: list[str] = []

    def write(self, path, chunks, *, size, mtime=None):  # type: ignore[no-untyped-def]
        self.writes.append(path)
        return super().write(path, chunks, size=size, mtime=mtime)

    def start_multipart(self, path: str, size: int) -> str:
        self.uploads.append(path)
        return super().start_multipart(path, size)


@pytest.mark.parametrize(
    ("cutoff", "in_parts"),
    [(20 * PART, []), (10 * PART + 3, []), (4 * PART, ["big"]), (0, ["big", "small"])],
)
def test_files_up_to_the_upload_cutoff_go_in_one_write(cutoff: int, in_parts: list[str]) -> None:
    src, dst = MemoryDriver(), CountingDriver(MemoryDriver())
    data = os.urandom(10 * PART + 3)  # eleven parts' worth
    fill(src, {"big": data, "small": b"x", "void": b""})
    opts = Options(files=2, parts=2, part_size=PART, upload_cutoff=cutoff)
    stats = Engine(src, dst, opts, retry=no_wait()).run([Item("", "", recursive=True)])
    assert (stats.files_copied, stats.files_failed) == (3, 0)
    assert contents(dst) == {"big": data, "small": b"x", "void": b""}
    assert sorted(dst.uploads) == in_parts
    assert sorted(dst.writes) == sorted({"big", "small", "void"} - set(in_parts))
