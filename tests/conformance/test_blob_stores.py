"""Every BlobStore runs the conformance suite in lading.testing.store_suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from lading.storage.base import BlobStore
from lading.storage.local import LocalBlobStore
from lading.storage.memory import MemoryBlobStore
from lading.testing.store_suite import BlobStoreSuite


class TestLocal(BlobStoreSuite):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[LocalBlobStore]:
        yield LocalBlobStore(tmp_path / "data", fsync=True)

    def backdate(self, store: BlobStore, blob_id: str, mtime: float) -> None:
        assert isinstance(store, LocalBlobStore)
        os.utime(store.path_of(blob_id), (mtime, mtime))


class TestMemory(BlobStoreSuite):
    @pytest.fixture
    def store(self) -> MemoryBlobStore:
        return MemoryBlobStore()

    def backdate(self, store: BlobStore, blob_id: str, mtime: float) -> None:
        assert isinstance(store, MemoryBlobStore)
        store.blobs[blob_id] = (store.blobs[blob_id][0], mtime)
