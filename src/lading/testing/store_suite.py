"""Conformance suite for the BlobStore contract (lading.storage.base).

A store's test subclasses `BlobStoreSuite` and provides a `store` fixture that yields an empty
store; see tests/conformance/test_blob_stores.py. Stores that can set a blob's modification
time override `backdate` so that the orphan-sweep tests run for them too.
"""

from __future__ import annotations

import random
import time

import pytest

from lading.storage.base import BlobStore

# (offset, length) -> the slice of DATA read() must return
DATA = bytes(range(256)) * 4
READ_WINDOWS = [
    (0, len(DATA)),
    (0, 1),
    (1, 10),
    (255, 2),
    (len(DATA) - 1, 1),
    (0, len(DATA) + 100),  # a length past the end is cut short
    (1000, 100),
    (len(DATA), 10),  # at the end: nothing
    (len(DATA) + 5, 10),  # past the end: nothing
    (10, 0),
]
UNKNOWN_IDS = ["0" * 32, "f" * 32, "not-a-blob", "../../etc/passwd", ""]
HOUR = 3600.0


def put(store: BlobStore, *pieces: bytes) -> str:
    """Write pieces into a new blob and commit it."""
    writer = store.open_writer()
    for piece in pieces:
        writer.write(piece)
    return writer.commit()


def read_all(store: BlobStore, blob_id: str, size: int) -> bytes:
    return store.read(blob_id, 0, size + 1)


class BlobStoreSuite:
    """The behaviour every BlobStore must show; subclasses provide the `store` fixture."""

    def backdate(self, store: BlobStore, blob_id: str, mtime: float) -> None:
        """Set the modification time iter_blobs reports for blob_id (optional per store)."""
        pytest.skip(f"{type(store).__name__} cannot set a blob's modification time")

    # --- write, commit, read -------------------------------------------------------------------

    def test_committed_blob_reads_back_whole(self, store: BlobStore) -> None:
        blob_id = put(store, DATA)
        assert read_all(store, blob_id, len(DATA)) == DATA

    @pytest.mark.parametrize(("offset", "length"), READ_WINDOWS)
    def test_read_returns_the_window_at_offset_and_length(
        self, store: BlobStore, offset: int, length: int
    ) -> None:
        blob_id = put(store, DATA)
        assert store.read(blob_id, offset, length) == DATA[offset : offset + length]

    def test_empty_blob_reads_as_empty(self, store: BlobStore) -> None:
        blob_id = put(store)
        assert store.read(blob_id, 0, 100) == b""
        assert blob_id in dict(store.iter_blobs())

    def test_empty_writes_add_nothing(self, store: BlobStore) -> None:
        blob_id = put(store, b"", b"abc", b"", b"def", b"")
        assert read_all(store, blob_id, 6) == b"abcdef"

    def test_large_blob_written_in_many_pieces_reads_back_identically(
        self, store: BlobStore
    ) -> None:
        rng = random.Random(20240611)
        pieces = [rng.randbytes(rng.randrange(1, 64 * 1024)) for _ in range(300)]
        whole = b"".join(pieces)
        blob_id = put(store, *pieces)
        assert read_all(store, blob_id, len(whole)) == whole
        # reads that straddle the original piece boundaries
        offset = 0
        for piece in pieces[:50]:
            offset += len(piece)
            assert store.read(blob_id, offset - 7, 19) == whole[offset - 7 : offset + 12]

    def test_each_commit_gets_a_new_id(self, store: BlobStore) -> None:
        ids = [put(store, b"same") for _ in range(20)]
        assert len(set(ids)) == len(ids)

    def test_uncommitted_writer_is_invisible(self, store: BlobStore) -> None:
        committed = put(store, b"kept")
        writer = store.open_writer()
        writer.write(b"pending")
        assert [blob_id for blob_id, _ in store.iter_blobs()] == [committed]
        writer.abort()

    # --- abort ---------------------------------------------------------------------------------

    def test_abort_leaves_no_blob_and_no_temporary(self, store: BlobStore) -> None:
        writer = store.open_writer()
        writer.write(DATA)
        writer.abort()
        assert list(store.iter_blobs()) == []
        assert store.sweep_temporary(time.time() + HOUR) == 0

    def test_abort_is_idempotent(self, store: BlobStore) -> None:
        writer = store.open_writer()
        writer.write(b"x")
        writer.abort()
        writer.abort()
        assert list(store.iter_blobs()) == []

    def test_abort_of_a_writer_that_wrote_nothing_leaves_nothing(self, store: BlobStore) -> None:
        store.open_writer().abort()
        assert list(store.iter_blobs()) == []
        assert store.sweep_temporary(time.time() + HOUR) == 0

    # --- unknown ids ---------------------------------------------------------------------------

    @pytest.mark.parametrize("blob_id", UNKNOWN_IDS)
    def test_read_of_unknown_id_raises_file_not_found(self, store: BlobStore, blob_id: str) -> None:
        put(store, b"something else")
        with pytest.raises(FileNotFoundError):
            store.read(blob_id, 0, 10)

    @pytest.mark.parametrize("blob_id", UNKNOWN_IDS[:2])
    def test_link_of_unknown_id_raises_file_not_found(self, store: BlobStore, blob_id: str) -> None:
        with pytest.raises(FileNotFoundError):
            store.link_blob(blob_id)

    def test_read_of_deleted_blob_raises_file_not_found(self, store: BlobStore) -> None:
        blob_id = put(store, b"gone soon")
        store.delete(blob_id)
        with pytest.raises(FileNotFoundError):
            store.read(blob_id, 0, 10)

    # --- link_blob -----------------------------------------------------------------------------

    def test_link_gives_a_new_id_with_the_same_bytes(self, store: BlobStore) -> None:
        original = put(store, DATA)
        linked = store.link_blob(original)
        assert linked != original
        assert read_all(store, linked, len(DATA)) == DATA
        assert {original, linked} <= {blob_id for blob_id, _ in store.iter_blobs()}

    def test_linked_blob_survives_deletion_of_the_original(self, store: BlobStore) -> None:
        original = put(store, DATA)
        linked = store.link_blob(original)
        store.delete(original)
        assert read_all(store, linked, len(DATA)) == DATA
        assert [blob_id for blob_id, _ in store.iter_blobs()] == [linked]

    def test_original_survives_deletion_of_the_link(self, store: BlobStore) -> None:
        original = put(store, DATA)
        store.delete(store.link_blob(original))
        assert read_all(store, original, len(DATA)) == DATA

    def test_link_of_a_link_is_independent_too(self, store: BlobStore) -> None:
        first = put(store, b"chain")
        second = store.link_blob(first)
        third = store.link_blob(second)
        store.delete(first)
        store.delete(second)
        assert store.read(third, 0, 10) == b"chain"

    def test_linked_blob_is_new_for_the_orphan_sweep(self, store: BlobStore) -> None:
        # housekeeping deletes unreferenced blobs older than a cutoff; a link made for a copy
        # whose row is not committed yet must not look as old as its source
        original = put(store, b"old bytes")
        self.backdate(store, original, time.time() - 10 * 24 * HOUR)
        cutoff = time.time() - HOUR
        linked = store.link_blob(original)
        assert dict(store.iter_blobs())[linked] > cutoff

    # --- delete --------------------------------------------------------------------------------

    def test_delete_is_idempotent(self, store: BlobStore) -> None:
        blob_id = put(store, b"twice")
        store.delete(blob_id)
        store.delete(blob_id)
        assert list(store.iter_blobs()) == []

    def test_delete_leaves_other_blobs_alone(self, store: BlobStore) -> None:
        kept, dropped = put(store, b"kept"), put(store, b"dropped")
        store.delete(dropped)
        assert [blob_id for blob_id, _ in store.iter_blobs()] == [kept]
        assert store.read(kept, 0, 10) == b"kept"

    # --- iter_blobs ----------------------------------------------------------------------------

    def test_iter_blobs_lists_committed_blobs_only(self, store: BlobStore) -> None:
        committed = {put(store, b"a"), put(store, b""), put(store, DATA)}
        aborted = store.open_writer()
        aborted.write(b"aborted")
        aborted.abort()
        pending = store.open_writer()
        pending.write(b"pending")
        listed = dict(store.iter_blobs())
        assert set(listed) == committed
        assert all(isinstance(mtime, float) for mtime in listed.values())
        pending.abort()

    def test_iter_blobs_of_an_empty_store_is_empty(self, store: BlobStore) -> None:
        assert list(store.iter_blobs()) == []

    def test_backdated_blob_reports_its_time(self, store: BlobStore) -> None:
        blob_id = put(store, b"x")
        then = time.time() - 10 * 24 * HOUR
        self.backdate(store, blob_id, then)
        assert dict(store.iter_blobs())[blob_id] == pytest.approx(then, abs=1)

    # --- sweep_temporary -----------------------------------------------------------------------

    def test_sweep_keeps_temporaries_newer_than_the_cutoff(self, store: BlobStore) -> None:
        writer = store.open_writer()
        writer.write(b"in flight")
        assert store.sweep_temporary(time.time() - HOUR) == 0
        writer.write(b", still")
        blob_id = writer.commit()
        assert store.read(blob_id, 0, 100) == b"in flight, still"

    def test_sweep_removes_temporaries_older_than_the_cutoff(self, store: BlobStore) -> None:
        committed = put(store, DATA)
        stale = store.open_writer()
        stale.write(b"abandoned upload")
        assert store.sweep_temporary(time.time() + HOUR) == 1
        assert store.sweep_temporary(time.time() + HOUR) == 0
        assert [blob_id for blob_id, _ in store.iter_blobs()] == [committed]
        assert read_all(store, committed, len(DATA)) == DATA

    def test_commit_after_the_temporary_was_swept_raises_file_not_found(
        self, store: BlobStore
    ) -> None:
        stale = store.open_writer()
        stale.write(b"slow client")
        store.sweep_temporary(time.time() + HOUR)
        stale.write(b" keeps writing")
        with pytest.raises(FileNotFoundError):
            stale.commit()
        stale.abort()
        assert list(store.iter_blobs()) == []

    def test_sweep_never_removes_committed_blobs(self, store: BlobStore) -> None:
        committed = {put(store, b"one"), put(store, b"two")}
        assert store.sweep_temporary(time.time() + HOUR) == 0
        assert {blob_id for blob_id, _ in store.iter_blobs()} == committed
