"""SQLite group commit: writes from many requests share one commit (one WAL fsync)."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from lading import errors
from lading.metadata.migrate import upgrade
from lading.metadata.models import ObjectVersion
from lading.metadata.store import MetadataStore, create_engine
from lading.testing.metadata_suite import MetadataStoreSuite


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "metadata.db"


@pytest.fixture
def meta(database: Path) -> Iterator[MetadataStore]:
    engine = create_engine(f"sqlite:///{database}")
    try:
        upgrade(engine)
        yield MetadataStore(engine)
    finally:
        engine.dispose()


def refuse(current: ObjectVersion | None) -> None:
    raise errors.PreconditionFailed()


def test_writes_queued_while_another_process_commits_share_one_commit(
    meta: MetadataStore, database: Path
) -> None:
    owner = meta.create_user("owner")
    bucket = meta.create_bucket("bucket", owner, "us-east-1")
    commits: list[int] = []
    sa.event.listen(meta.engine, "commit", lambda _conn: commits.append(1))
    # another server process in the middle of its commit: it holds the lock they all queue on
    other_process = os.open(f"{database}.writer-lock", os.O_RDWR)
    fcntl.flock(other_process, fcntl.LOCK_EX)
    outcomes: dict[int, object] = {}

    def put(number: int) -> None:
        obj = MetadataStoreSuite.version(bucket, f"key-{number}")
        try:
            outcomes[number] = meta.put_object(bucket, obj, check=refuse if number == 7 else None)
        except errors.PreconditionFailed as exc:
            outcomes[number] = exc

    writers = [threading.Thread(target=put, args=(n,)) for n in range(20)]
    try:
        for writer in writers:
            writer.start()
        group = meta._group
        assert group is not None
        # every request waits for the lock; a writer that took a batch before it held the
        # lock leaves one fewer in the queue, so that many is waited for, then a while longer
        deadline = time.monotonic() + 30
        while len(group.queue) < len(writers) - 1:
            assert time.monotonic() < deadline, "the writes never queued"
            time.sleep(0.01)
        deadline = time.monotonic() + 2
        while len(group.queue) < len(writers) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        fcntl.flock(other_process, fcntl.LOCK_UN)
        os.close(other_process)
        for writer in writers:
            writer.join(30)

    assert len(commits) == 1  # taking a batch before the lock was held made it two commits
    assert isinstance(outcomes.pop(7), errors.PreconditionFailed)
    assert outcomes == {n: [] for n in range(20) if n != 7}
    assert meta.count_objects(bucket) == 19
    with pytest.raises(errors.NoSuchKey):
        meta.get_object(bucket, "key-7")


def test_a_failed_commit_fails_its_write_and_the_next_write_succeeds(
    meta: MetadataStore,
) -> None:
    owner = meta.create_user("owner")
    bucket = meta.create_bucket("bucket", owner, "us-east-1")

    def fail_commit(_conn: sa.Connection) -> None:
        raise sa.exc.OperationalError("COMMIT", {}, Exception("disk I/O error"))

    sa.event.listen(meta.engine, "commit", fail_commit)
    try:
        with pytest.raises(sa.exc.OperationalError):
            meta.put_object(bucket, MetadataStoreSuite.version(bucket, "lost"))
    finally:
        sa.event.remove(meta.engine, "commit", fail_commit)
    meta.put_object(bucket, MetadataStoreSuite.version(bucket, "kept"))
    assert [o.key for o in meta.list_objects(bucket).objects] == ["kept"]
