"""SQLite's write-ahead log shrinks back to `metadata.wal_limit_mib` after a burst of writes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from lading.app import build_stores
from lading.metadata.migrate import upgrade
from lading.metadata.store import MetadataStore
from lading.settings import Settings
from lading.testing.metadata_suite import MetadataStoreSuite


@contextlib.contextmanager
def served_store(data_dir: Path, wal_limit_mib: int) -> Iterator[MetadataStore]:
    """The store as `lading serve` builds it: commits leave checkpoints to the server."""
    settings = Settings(data_dir=data_dir, metadata={"wal_limit_mib": wal_limit_mib})
    meta, _blobs = build_stores(settings, serving=True)
    try:
        upgrade(meta.engine)
        yield meta
    finally:
        meta.engine.dispose()


@pytest.fixture
def meta(tmp_path: Path) -> Iterator[MetadataStore]:
    with served_store(tmp_path, wal_limit_mib=0) as meta:
        yield meta


def write_burst(meta: MetadataStore, count: int, prefix: str = "burst") -> None:
    owner = meta.create_user(f"{prefix}-owner")
    bucket = meta.create_bucket(f"{prefix}-bucket", owner, "us-east-1")
    for number in range(count):  # a commit each, and no checkpoint in between
        meta.put_object(bucket, MetadataStoreSuite.version(bucket, f"key-{number:05}"))


def wal_size(data_dir: Path) -> int:
    return (data_dir / "metadata.db-wal").stat().st_size


def test_a_burst_of_writes_leaves_no_large_log_once_checkpointed(
    meta: MetadataStore, tmp_path: Path
) -> None:
    write_burst(meta, 150)
    grown = wal_size(tmp_path)
    assert grown > 2 * 1024 * 1024  # the burst grew the log: the test below means something

    meta.checkpoint()  # what the server's checkpoint task does every second
    write_burst(meta, 1, prefix="after")  # the first commit after it restarts the log

    assert wal_size(tmp_path) < 128 * 1024, f"the log stayed at {grown} bytes"
    bucket = meta.get_bucket("burst-bucket")  # and every write of the burst is still there
    assert [meta.get_object(bucket, f"key-{n:05}").key for n in (0, 149)] == [
        "key-00000",
        "key-00149",
    ]


def test_the_log_is_cut_back_to_the_limit_in_mib(tmp_path: Path) -> None:
    with served_store(tmp_path, wal_limit_mib=1) as meta:
        write_burst(meta, 150)
        assert wal_size(tmp_path) > 2 * 1024 * 1024
        meta.checkpoint()
        write_burst(meta, 1, prefix="after")
        assert wal_size(tmp_path) == 1024 * 1024
