"""The conformance suite every endpoint driver runs (rclone fstests, fsspec tests/abstract).

A driver's test module provides a `driver` fixture returning an empty driver and subclasses
`DriverSuite` in one line.
"""

from __future__ import annotations

import hashlib
import time

import pytest

from lading.transfer.drivers.base import EndpointDriver, Part
from lading.transfer.errors import InvalidPath, NoSuchPath


def put(driver: EndpointDriver, path: str, data: bytes, mtime: float | None = None) -> None:
    driver.write(
        path, [data[: len(data) // 2], data[len(data) // 2 :]], size=len(data), mtime=mtime
    )


def read(driver: EndpointDriver, path: str, start: int = 0, length: int | None = None) -> bytes:
    return b"".join(driver.open_read(path, start, length))


class DriverSuite:
    """Behaviour every driver shares; the memory driver is the reference."""

    def test_write_then_stat_read_and_list(self, driver: EndpointDriver) -> None:
        written = driver.write("d/hello.txt", [b"hello ", b"world"], size=11)
        assert written.path == "d/hello.txt" and written.size == 11
        entry = driver.stat("d/hello.txt")
        assert (entry.path, entry.size) == ("d/hello.txt", 11)
        assert abs(entry.mtime - time.time()) < 120
        assert read(driver, "d/hello.txt") == b"hello world"
        assert [e.path for e in driver.list("d")] == ["d/hello.txt"]
        assert [e.path for e in driver.list()] == ["d/hello.txt"]

    def test_known_checksums_are_the_md5_of_the_bytes(self, driver: EndpointDriver) -> None:
        put(driver, "c.bin", b"checksum me")
        for entry in [driver.stat("c.bin"), *driver.list()]:
            if entry.checksum is not None:
                assert entry.checksum == "md5:" + hashlib.md5(b"checksum me").hexdigest()

    def test_listing_is_sorted_by_full_path_and_recursive(self, driver: EndpointDriver) -> None:
        names = ["a/b", "a-b", "a.txt", "a0", "b/c/d", "b/c.e", "Z", "é", "a/a/a"]
        for name in names:
            put(driver, name, name.encode())
        assert [e.path for e in driver.list()] == sorted(names)
        assert [e.path for e in driver.list("a")] == ["a/a/a", "a/b"]
        assert [(e.path, e.size) for e in driver.list("b/c")] == [("b/c/d", 5)]

    def test_listing_a_directory_excludes_siblings_sharing_its_prefix(
        self, driver: EndpointDriver
    ) -> None:
        put(driver, "dir/x", b"1")
        put(driver, "dir2/y", b"2")
        put(driver, "dirx", b"3")
        assert [e.path for e in driver.list("dir")] == ["dir/x"]

    def test_listing_a_missing_directory_is_empty(self, driver: EndpointDriver) -> None:
        assert list(driver.list("nothing/here")) == []

    def test_stat_and_read_of_a_missing_file_raise_no_such_path(
        self, driver: EndpointDriver
    ) -> None:
        with pytest.raises(NoSuchPath):
            driver.stat("missing")
        with pytest.raises(NoSuchPath):
            read(driver, "missing")

    def test_ranged_reads(self, driver: EndpointDriver) -> None:
        data = bytes(range(256)) * 40
        put(driver, "r", data)
        assert read(driver, "r", 100, 50) == data[100:150]
        assert read(driver, "r", 10_000) == data[10_000:]
        assert read(driver, "r", 0, len(data)) == data

    def test_an_empty_file(self, driver: EndpointDriver) -> None:
        driver.write("empty", [], size=0)
        assert driver.stat("empty").size == 0
        assert read(driver, "empty") == b""

    def test_overwrite_replaces_the_content(self, driver: EndpointDriver) -> None:
        put(driver, "o", b"first version")
        put(driver, "o", b"second")
        assert read(driver, "o") == b"second"
        assert [e.size for e in driver.list()] == [6]

    def test_multipart_parts_in_any_order(self, driver: EndpointDriver) -> None:
        part = max(driver.features.min_part_size, 1024)
        data = b"a" * part + b"b" * part + b"c" * 100
        upload = driver.start_multipart("big/file", len(data))
        parts = [
            driver.write_part("big/file", upload, n, (n - 1) * part, data[(n - 1) * part :][:part])
            for n in (3, 1, 2)
        ]
        parts.sort(key=lambda p: p.number)
        assert [p.number for p in parts] == [1, 2, 3]
        entry = driver.complete_multipart("big/file", upload, parts)
        assert entry.size == len(data)
        assert read(driver, "big/file") == data
        assert [e.path for e in driver.list()] == ["big/file"]

    def test_an_aborted_multipart_leaves_nothing(self, driver: EndpointDriver) -> None:
        part = max(driver.features.min_part_size, 1024)
        upload = driver.start_multipart("gone", part)
        driver.write_part("gone", upload, 1, 0, b"x" * part)
        driver.abort_multipart("gone", upload)
        driver.abort_multipart("gone", upload)  # idempotent
        assert list(driver.list()) == []
        with pytest.raises(NoSuchPath):
            driver.complete_multipart("gone", upload, [Part(1, "x")])

    def test_delete_is_idempotent(self, driver: EndpointDriver) -> None:
        put(driver, "d/x", b"x")
        driver.delete("d/x")
        driver.delete("d/x")
        assert list(driver.list()) == []

    def test_mkdir_is_idempotent(self, driver: EndpointDriver) -> None:
        driver.mkdir("new/dir")
        driver.mkdir("new/dir")
        assert list(driver.list()) == []

    def test_rename_moves_a_file(self, driver: EndpointDriver) -> None:
        put(driver, "from/a", b"moving")
        driver.rename("from/a", "to/b")
        assert [e.path for e in driver.list()] == ["to/b"]
        assert read(driver, "to/b") == b"moving"
        with pytest.raises(NoSuchPath):
            driver.rename("from/a", "to/c")

    def test_server_side_copy(self, driver: EndpointDriver) -> None:
        if not driver.features.server_side_copy:
            pytest.skip("the driver has no server-side copy")
        put(driver, "src", b"copied without a client")
        entry = driver.copy("src", "sub/dst")
        assert entry.size == 23
        assert read(driver, "sub/dst") == b"copied without a client"
        with pytest.raises(NoSuchPath):
            driver.copy("missing", "x")

    def test_mtime_is_kept_when_the_driver_can(self, driver: EndpointDriver) -> None:
        if not driver.features.set_mtime:
            pytest.skip("the driver cannot set modification times")
        put(driver, "old", b"x", mtime=1_000_000_000.5)
        assert abs(driver.stat("old").mtime - 1_000_000_000.5) < 0.01

    @pytest.mark.parametrize("bad", ["../x", "a/../../x", "./a", "a/./b", "a\x00b", "", "/"])
    def test_paths_with_dot_segments_or_nul_are_refused(
        self, driver: EndpointDriver, bad: str
    ) -> None:
        with pytest.raises(InvalidPath):
            put(driver, bad, b"x")
        with pytest.raises(InvalidPath):
            driver.stat(bad)
        assert list(driver.list()) == []
