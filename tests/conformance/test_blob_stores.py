"""Every BlobStore runs the conformance suite in lading.testing.store_suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from lading.storage.base import BlobStore
from lading.storage.local import (
    ALIGN,
    DIRECT_BYTES,
    DROP_BEHIND_BYTES,
    STAGE_BYTES,
    LocalBlobStore,
)
from lading.storage.memory import MemoryBlobStore
from lading.testing.store_suite import BlobStoreSuite


class TestLocal(BlobStoreSuite):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[LocalBlobStore]:
        yield LocalBlobStore(tmp_path / "data", fsync=True)

    def backdate(self, store: BlobStore, blob_id: str, mtime: float) -> None:
        assert isinstance(store, LocalBlobStore)
        os.utime(store.path_of(blob_id), (mtime, mtime))

    @pytest.mark.parametrize("fsync", [True, False])
    def test_large_blob_dropped_behind_reads_back_whole(self, tmp_path: Path, fsync: bool) -> None:
        """A blob past the drop-behind size leaves the page cache, not the disk."""
        store = LocalBlobStore(tmp_path / "data", fsync=fsync)
        piece = os.urandom(1024 * 1024)
        pieces = DROP_BEHIND_BYTES // len(piece) + 1
        writer = store.open_writer()
        for _ in range(pieces):
            writer.write(piece)
        blob_id = writer.commit()
        size = pieces * len(piece)
        assert store.path_of(blob_id).stat().st_size == size
        assert store.read(blob_id, size - len(piece), len(piece)) == piece
        assert store.read(blob_id, 0, 16) == piece[:16]

    @pytest.mark.parametrize("direct_io", [True, False])
    @pytest.mark.parametrize(
        "pieces",
        [
            [777_777] * 30,  # crosses DIRECT_BYTES unaligned, ends unaligned
            [DIRECT_BYTES, ALIGN * 3, STAGE_BYTES * 2],  # crosses aligned, ends on a stage
            [DIRECT_BYTES - 1, 1, 5],  # a tail shorter than one block
        ],
    )
    def test_large_blob_written_direct_reads_back_whole(
        self, tmp_path: Path, direct_io: bool, pieces: list[int]
    ) -> None:
        """Past DIRECT_BYTES a blob turns to O_DIRECT (or stays buffered where it cannot):
        whatever the piece sizes, the blob holds exactly the bytes written, in order."""
        store = LocalBlobStore(tmp_path / "data", fsync=True)
        store.direct_io = direct_io
        data = [os.urandom(n) for n in pieces]
        writer = store.open_writer()
        for piece in data:
            writer.write(piece)
        blob_id = writer.commit()
        expected = b"".join(data)
        assert store.path_of(blob_id).read_bytes() == expected
        assert store.read(blob_id, DIRECT_BYTES - 3, 10) == expected[DIRECT_BYTES - 3 :][:10]

    def test_abort_of_a_direct_writer_leaves_nothing(self, tmp_path: Path) -> None:
        store = LocalBlobStore(tmp_path / "data", fsync=True)
        writer = store.open_writer()
        writer.write(os.urandom(DIRECT_BYTES + STAGE_BYTES + 123))
        writer.abort()
        assert list(store.iter_blobs()) == []
        assert not list((tmp_path / "data").rglob("*.part"))


class TestMemory(BlobStoreSuite):
    @pytest.fixture
    def store(self) -> MemoryBlobStore:
        return MemoryBlobStore()

    def backdate(self, store: BlobStore, blob_id: str, mtime: float) -> None:
        assert isinstance(store, MemoryBlobStore)
        store.blobs[blob_id] = (store.blobs[blob_id][0], mtime)
