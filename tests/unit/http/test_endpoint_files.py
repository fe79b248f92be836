"""The relay's part reader: a part is held whole, so its size is bounded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lading import errors
from lading.http.api.endpoint_files import read_part


def test_a_part_within_the_limit_is_read_whole() -> None:
    assert read_part(iter([b"ab", b"cd", b"e"]), limit=5) == b"abcde"


def test_a_part_over_the_limit_is_refused_before_the_rest_is_read() -> None:
    read: list[bytes] = []

    def chunks() -> Iterator[bytes]:
        for chunk in (b"abc", b"def", b"never"):
            read.append(chunk)
            yield chunk

    with pytest.raises(errors.EntityTooLarge):
        read_part(chunks(), limit=5)
    assert read == [b"abc", b"def"]
