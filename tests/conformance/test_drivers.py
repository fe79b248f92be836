"""Every endpoint driver runs the one conformance suite."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lading.testing.driver_suite import DriverSuite
from lading.testing.server import RunningServer
from lading.transfer.drivers.base import EndpointDriver
from lading.transfer.drivers.local import LocalDriver
from lading.transfer.drivers.memory import MemoryDriver
from lading.transfer.drivers.s3 import S3Driver, make_client
from lading.transfer.errors import NoSuchContainer, PathOutsideRoot


class TestMemory(DriverSuite):
    @pytest.fixture
    def driver(self) -> EndpointDriver:
        return MemoryDriver()


class TestLocal(DriverSuite):
    @pytest.fixture
    def driver(self, tmp_path: Path) -> EndpointDriver:
        (tmp_path / "root").mkdir()
        return LocalDriver(tmp_path / "root")

    def test_symlinks_out_of_the_root_are_refused(self, tmp_path: Path) -> None:
        root, outside = tmp_path / "root", tmp_path / "outside"
        root.mkdir()
        outside.mkdir()
        (outside / "secret").write_bytes(b"secret")
        (root / "link").symlink_to(outside)
        (root / "file-link").symlink_to(outside / "secret")
        driver = LocalDriver(root)
        assert list(driver.list()) == []  # symlinks are not listed
        for path in ("link/secret", "file-link"):
            with pytest.raises(PathOutsideRoot):
                driver.stat(path)
            with pytest.raises(PathOutsideRoot):
                b"".join(driver.open_read(path))
        with pytest.raises(PathOutsideRoot):
            driver.write("link/planted", [b"x"], size=1)
        with pytest.raises(PathOutsideRoot):
            driver.write("file-link", [b"x"], size=1)
        assert sorted(os.listdir(outside)) == ["secret"]
        assert (outside / "secret").read_bytes() == b"secret"

    def test_partial_files_are_not_listed(self, tmp_path: Path) -> None:
        driver = LocalDriver(tmp_path)
        upload = driver.start_multipart("a/big", 10)
        driver.write_part("a/big", upload, 1, 0, b"0123456789")
        assert list(driver.list()) == []
        driver.complete_multipart("a/big", upload, [])
        assert [e.path for e in driver.list()] == ["a/big"]

    def test_a_missing_root_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(NoSuchContainer):
            LocalDriver(tmp_path / "nope")


class TestS3(DriverSuite):
    @pytest.fixture
    def driver(self, server: RunningServer, s3: Any, bucket: str) -> Iterator[EndpointDriver]:
        client = make_client(server.url, access_key=server.access_key, secret_key=server.secret_key)
        yield S3Driver(client, bucket, f"p-{uuid.uuid4().hex[:6]}", endpoint_url=server.url)

    def test_a_missing_bucket_is_no_such_container(self, server: RunningServer) -> None:
        client = make_client(server.url, access_key=server.access_key, secret_key=server.secret_key)
        driver = S3Driver(client, "t-no-such-bucket-here", endpoint_url=server.url)
        with pytest.raises(NoSuchContainer):
            list(driver.list())
