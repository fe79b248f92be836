"""Blob ids, shared by the blob stores and the metadata store.

An object's row names its bytes by blob ids only. Ids with INLINE_PREFIX name inline blobs:
the bytes of a small object, kept in the metadata database and written in the transaction
that commits the row. Every other id names a blob of the blob store (a file).
"""

from __future__ import annotations

import uuid

INLINE_PREFIX = "@"


def is_inline(blob_id: str) -> bool:
    return blob_id.startswith(INLINE_PREFIX)


def new_inline_id() -> str:
    return INLINE_PREFIX + uuid.uuid4().hex
