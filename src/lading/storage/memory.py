"""In-memory blob store: the reference implementation for the conformance suite."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

from lading.storage.base import BlobStore, BlobWriter, StoreFeatures


class MemoryBlobWriter:
    """Collects bytes in the store's table of temporaries until commit()."""

    def __init__(self, store: MemoryBlobStore) -> None:
        self._store = store
        self._token = uuid.uuid4().hex
        store.temporary[self._token] = (bytearray(), time.time())

    def write(self, data: bytes) -> None:
        entry = self._store.temporary.get(self._token)
        if entry is not None:  # once swept, the bytes go nowhere and commit() fails
            entry[0].extend(data)
            self._store.temporary[self._token] = (entry[0], time.time())

    def commit(self) -> str:
        try:
            buffer, _ = self._store.temporary.pop(self._token)
        except KeyError:
            raise FileNotFoundError(f"temporary blob {self._token} is gone") from None
        blob_id = uuid.uuid4().hex
        self._store.blobs[blob_id] = (bytes(buffer), time.time())
        return blob_id

    def abort(self) -> None:
        self._store.temporary.pop(self._token, None)


class MemoryBlobStore:
    """Blobs in a dict; for tests and throw-away servers."""

    features = StoreFeatures(hardlink_copy=True)

    def __init__(self) -> None:
        self.blobs: dict[str, tuple[bytes, float]] = {}
        # writer token -> (bytes so far, last write time)
        self.temporary: dict[str, tuple[bytearray, float]] = {}

    def open_writer(self) -> BlobWriter:
        return MemoryBlobWriter(self)

    def read(self, blob_id: str, offset: int, length: int) -> bytes:
        try:
            data = self.blobs[blob_id][0]
        except KeyError:
            raise FileNotFoundError(blob_id) from None
        return data[offset : offset + length]

    def link_blob(self, blob_id: str) -> str:
        try:
            data = self.blobs[blob_id][0]
        except KeyError:
            raise FileNotFoundError(blob_id) from None
        new_id = uuid.uuid4().hex
        self.blobs[new_id] = (data, time.time())
        return new_id

    def delete(self, blob_id: str) -> None:
        self.blobs.pop(blob_id, None)

    def iter_blobs(self) -> Iterator[tuple[str, float]]:
        yield from [(blob_id, mtime) for blob_id, (_, mtime) in self.blobs.items()]

    def sweep_temporary(self, older_than: float) -> int:
        stale = [token for token, (_, mtime) in list(self.temporary.items()) if mtime <= older_than]
        for token in stale:
            self.temporary.pop(token, None)
        return len(stale)


_: type[BlobStore] = MemoryBlobStore
