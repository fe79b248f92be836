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
    DIRECT_READ_BYTES,
    DIRECT_READ_MAX,
    DROP_BEHIND_BYTES,
    STAGE_BYTES,
    LocalBlobStore,
)
from lading.storage.memory import MemoryBlobStore
from lading.storage.pagecache import PageCache
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

    @pytest.fixture
    def cold_blob(self, tmp_path: Path) -> tuple[LocalBlobStore, str, bytes]:
        """A blob past the drop-behind size, out of the page cache once committed."""
        store = LocalBlobStore(tmp_path / "data", fsync=True)
        data = os.urandom(DROP_BEHIND_BYTES + 3 * 1024 * 1024 + 1234)
        writer = store.open_writer()
        writer.write(data)
        return store, writer.commit(), data

    @pytest.mark.parametrize(
        ("offset", "length"),
        [
            (0, DIRECT_READ_BYTES),  # aligned both ends
            (1, 1024 * 1024),  # unaligned start: the block before it is read and skipped
            (ALIGN * 7 + 5, DIRECT_READ_MAX),  # the longest read that goes direct
            (DIRECT_BYTES - 3, 1024 * 1024 + 9),  # across where the writer turned direct
            (-1024 * 1024 - 77, 1024 * 1024 + 77),  # the unaligned last bytes of the file
            (-1000, 1024 * 1024),  # asks past the end: gets what there is
            (12_345, DIRECT_READ_MAX + 1),  # too long to go direct: through the cache
        ],
    )
    def test_cold_reads_return_exactly_the_bytes_asked_for(
        self, cold_blob: tuple[LocalBlobStore, str, bytes], offset: int, length: int
    ) -> None:
        store, blob_id, data = cold_blob
        start = offset % len(data)
        assert store.read(blob_id, start, length) == data[start : start + length]
        assert store.direct_io

    def test_a_cold_read_leaves_the_page_cache_as_it_was(
        self, cold_blob: tuple[LocalBlobStore, str, bytes]
    ) -> None:
        """A read of a large blob the cache does not hold goes past it (O_DIRECT), so a
        bulk read does not push often-read small objects out; what the cache holds is
        read from it."""
        store, blob_id, data = cold_blob
        cache = PageCache()
        path = store.path_of(blob_id)
        fd = os.open(path, os.O_RDONLY)
        try:
            if cache.cached_pages(fd, 0, len(data)) is None:
                pytest.skip("this kernel cannot tell what the page cache holds (cachestat)")
            piece = 1024 * 1024
            assert cache.cached_pages(fd, 0, len(data)) == 0
            assert store.read(blob_id, piece, piece) == data[piece : 2 * piece]
            assert cache.cached_pages(fd, 0, len(data)) == 0
            assert os.pread(fd, piece, 0) == data[:piece]  # now cached, by another reader
            assert cache.cached_pages(fd, 0, piece) == cache.pages_in(0, piece)
            assert store.read(blob_id, 0, piece) == data[:piece]
        finally:
            os.close(fd)

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
