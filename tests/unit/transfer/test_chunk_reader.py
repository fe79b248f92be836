"""The streamed body of a single S3 write: slices of one chunk at a time, never seeking back."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from lading.transfer.drivers.s3 import ChunkReader


def test_reads_hand_out_the_chunks_in_order_and_at_most_n_bytes() -> None:
    reader = ChunkReader(iter([b"abcde", b"", b"fg", b"hijkl"]))
    got = []
    while piece := reader.read(3):
        assert len(piece) <= 3
        got.append(piece)
    assert b"".join(got) == b"abcdefghijkl"
    assert reader.read(3) == b"" and reader.tell() == 12


def test_read_all_and_the_seeks_a_signer_may_ask_for() -> None:
    reader = ChunkReader(iter([b"abc", b"def"]))
    assert reader.seek(0) == 0 and reader.seek(0, io.SEEK_CUR) == 0
    assert reader.read(2) == b"ab"
    assert reader.read() == b"cdef" and reader.tell() == 6
    with pytest.raises(io.UnsupportedOperation):
        reader.seek(0)
    with pytest.raises(io.UnsupportedOperation):
        reader.seek(0, io.SEEK_END)


def test_a_source_error_surfaces_from_read() -> None:
    def failing() -> Iterator[bytes]:
        yield b"ok"
        raise OSError("disk gone")

    reader = ChunkReader(failing())
    assert reader.read(10) == b"ok"
    with pytest.raises(OSError, match="disk gone"):
        reader.read(10)
