"""The blob store contract: opaque, immutable byte blobs named by ids the store chooses."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StoreFeatures:
    """Optional speed-ups generic code may use."""

    hardlink_copy: bool = False  # link_blob() is O(1) and shares the bytes


class InlineBlobs(Protocol):
    """Where inline blobs live (the metadata store): written with their object's row."""

    def read_inline(self, blob_id: str, offset: int, length: int) -> bytes:
        """Raises FileNotFoundError for an unknown id, as a blob store does."""

    def copy_inline(self, blob_id: str) -> str:
        """A new inline blob holding the same bytes; raises FileNotFoundError."""

    def delete_inline(self, blob_ids: list[str]) -> None:
        """Remove inline blobs; idempotent."""

    def iter_inline(self) -> Iterator[tuple[str, float]]:
        """(blob_id, creation time) of every inline blob."""


class BlobWriter(Protocol):
    """One blob being written; not visible to readers until commit()."""

    def write(self, data: bytes) -> None:
        """Append data; blocking."""

    def commit(self) -> str:
        """Make the bytes durable and return the new blob's id; blocking.

        Raises FileNotFoundError when sweep_temporary() removed the half-written blob.
        """

    def abort(self) -> None:
        """Drop what was written; idempotent, never raises for a missing temp file."""


class BlobStore(Protocol):
    """Durable storage for object bytes. Methods block: call them from a worker thread."""

    features: StoreFeatures

    def open_writer(self) -> BlobWriter:
        """Start a new blob."""

    def read(self, blob_id: str, offset: int, length: int) -> bytes:
        """Read up to length bytes at offset; raises FileNotFoundError for an unknown id."""

    def link_blob(self, blob_id: str) -> str:
        """Return a new blob id holding the same bytes (a hard link where the store can).

        The new id counts as just written for iter_blobs(); raises FileNotFoundError for an
        unknown id.
        """

    def delete(self, blob_id: str) -> None:
        """Remove a blob; idempotent."""

    def iter_blobs(self) -> Iterator[tuple[str, float]]:
        """Yield (blob_id, modification time) of every committed blob."""

    def sweep_temporary(self, older_than: float) -> int:
        """Remove half-written blobs last touched before epoch time older_than; return how many."""


def delete_blobs(store: BlobStore, blob_ids: Iterable[str]) -> None:
    """Delete blobs no row references any more; a failure is logged, the start-up sweep retries."""
    for blob_id in blob_ids:
        try:
            store.delete(blob_id)
        except OSError:
            log.warning("could not delete blob %s; the start-up sweep will", blob_id)
