"""A blob store that serves inline blobs (bytes kept in the metadata database) beside files.

Object rows name their bytes by blob id alone, so every reader, copier and sweeper works on
both kinds through this one store: ids with the inline prefix go to the metadata store,
the others to the file store. New blobs are always files here; an inline blob is written by
the metadata store in the transaction that commits its object's row.
"""

from __future__ import annotations

from collections.abc import Iterator

from lading.blob_ids import is_inline
from lading.storage.base import BlobStore, BlobWriter, InlineBlobs


class RoutedBlobStore:
    def __init__(self, files: BlobStore, inline: InlineBlobs) -> None:
        self.files = files
        self.inline = inline
        self.features = files.features

    def open_writer(self) -> BlobWriter:
        return self.files.open_writer()

    def read(self, blob_id: str, offset: int, length: int) -> bytes:
        if is_inline(blob_id):
            return self.inline.read_inline(blob_id, offset, length)
        return self.files.read(blob_id, offset, length)

    def link_blob(self, blob_id: str) -> str:
        if is_inline(blob_id):
            return self.inline.copy_inline(blob_id)
        return self.files.link_blob(blob_id)

    def delete(self, blob_id: str) -> None:
        if is_inline(blob_id):
            self.inline.delete_inline([blob_id])
        else:
            self.files.delete(blob_id)

    def iter_blobs(self) -> Iterator[tuple[str, float]]:
        yield from self.files.iter_blobs()
        yield from self.inline.iter_inline()

    def sweep_temporary(self, older_than: float) -> int:
        return self.files.sweep_temporary(older_than)


_: type[BlobStore] = RoutedBlobStore
