"""Every BlobStore runs the conformance suite in lading.testing.store_suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from lading.storage.base import BlobStore
from lading.storage.local import DROP_BEHIND_BYTES, LocalBlobStore
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


class TestMemory(BlobStoreSuite):
    @pytest.fixture
    def store(self) -> MemoryBlobStore:
        return MemoryBlobStore()

    def backdate(self, store: BlobStore, blob_id: str, mtime: float) -> None:
        assert isinstance(store, MemoryBlobStore)
        store.blobs[blob_id] = (store.blobs[blob_id][0], mtime)
