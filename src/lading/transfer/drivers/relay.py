"""A registered endpoint reached through the Lading server's control API (its relay routes).

`lading cp` / `lading sync` run the engine in the CLI process; for `ENDPOINT:PATH` the bytes
go through the server, which holds the endpoint's credentials and runs its driver (a POSIX
root stays confined there). The server names each failure after the transfer error it was,
so this driver raises that same error and the engine retries exactly what it would retry.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from lading.client.errors import APIError, ConnectionFailed
from lading.client.transfers import TransferClient
from lading.transfer import errors as terrors
from lading.transfer.drivers.base import (
    DriverFeatures,
    EndpointDriver,
    Entry,
    Part,
    check_path,
    join,
)

_BY_CODE: dict[str, type[terrors.TransferFailure]] = {
    "NoSuchPath": terrors.NoSuchPath,
    "EndpointAccessDenied": terrors.EndpointAccessDenied,
    "PathOutsideRoot": terrors.PathOutsideRoot,
    "InvalidPath": terrors.Fatal,
    "QuotaExceeded": terrors.QuotaExceeded,
    "EndpointUnavailable": terrors.EndpointUnavailable,
    "TruncatedRead": terrors.EndpointUnavailable,
    "ChecksumMismatch": terrors.EndpointUnavailable,
    "EndpointFailure": terrors.Fatal,
}


@contextlib.contextmanager
def translate_errors(name: str, path: str) -> Iterator[None]:
    """SDK errors -> transfer errors: by the problem's code, else by the HTTP status."""
    try:
        yield
    except APIError as exc:
        message = exc.message
        cls = _BY_CODE.get(exc.code)
        if exc.code == "NoSuchContainer":
            raise terrors.NoSuchContainer(message) from exc
        if cls is terrors.NoSuchPath:
            raise terrors.NoSuchPath(path) from exc
        if cls is not None and cls is not terrors.EndpointUnavailable:
            raise cls(message) from exc
        if cls is terrors.EndpointUnavailable or exc.http_status >= 500 or exc.http_status == 429:
            raise terrors.EndpointUnavailable(message, exc.http_status) from exc
        if exc.http_status in (401, 403):
            raise terrors.EndpointAccessDenied(message) from exc
        if exc.http_status == 404:
            raise terrors.NoSuchContainer(f"{name}: {message}") from exc
        raise terrors.Fatal(f"{name}: {message}") from exc
    except ConnectionFailed as exc:
        raise terrors.EndpointUnavailable(str(exc)) from exc


def _entry(found: dict[str, Any], prefix: str) -> Entry:
    path = str(found["path"])
    rel = path[len(prefix) + 1 :] if prefix else path
    return Entry(rel, int(found["size"]), float(found["mtime"]), found.get("checksum"))


@dataclass
class RelayDriver:
    """Files of endpoint `name` under `prefix`, through `client` (the owner's SDK client)."""

    client: TransferClient
    name: str
    prefix: str = ""
    features: DriverFeatures = field(default_factory=DriverFeatures)

    def __post_init__(self) -> None:
        self.prefix = check_path(self.prefix, allow_root=True)
        with translate_errors(self.name, ""):
            found = self.client.endpoint_features(self.name)
        self.features = DriverFeatures(
            server_side_copy=False,  # bytes cross the client: no copy inside the store
            multipart=bool(found.get("multipart")),
            native_checksum=bool(found.get("native_checksum")),
            set_mtime=bool(found.get("set_mtime")),
            min_part_size=int(found.get("min_part_size", 0)),
            max_parts=int(found.get("max_parts", 10_000)),
        )

    @property
    def identity(self) -> str:
        return f"relay:{self.client.endpoint}:{self.name}"

    def _path(self, path: str, *, allow_root: bool = False) -> str:
        return join(self.prefix, check_path(path, allow_root=allow_root))

    def list(self, path: str = "") -> Iterator[Entry]:
        where = self._path(path, allow_root=True)
        with translate_errors(self.name, where):
            for found in self.client.endpoint_list(self.name, where):
                yield _entry(found, self.prefix)

    def stat(self, path: str) -> Entry:
        where = self._path(path)
        with translate_errors(self.name, where):
            return _entry(self.client.endpoint_stat(self.name, where), self.prefix)

    def open_read(self, path: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        where = self._path(path)
        with translate_errors(self.name, where):
            chunks = self.client.endpoint_read(self.name, where, start, length)
            first = next(chunks, b"")  # the answer's status: a missing file raises here
        return self._rest(where, first, chunks)

    def _rest(self, where: str, first: bytes, chunks: Iterator[bytes]) -> Iterator[bytes]:
        with translate_errors(self.name, where):
            if first:
                yield first
            yield from chunks

    def write(
        self, path: str, chunks: Iterable[bytes], *, size: int, mtime: float | None = None
    ) -> Entry:
        where = self._path(path)
        with translate_errors(self.name, where):
            found = self.client.endpoint_write(self.name, where, chunks, size=size, mtime=mtime)
        return _entry(found, self.prefix)

    def start_multipart(self, path: str, size: int) -> str:
        where = self._path(path)
        with translate_errors(self.name, where):
            return self.client.endpoint_start_upload(self.name, where, size)

    def write_part(
        self, path: str, upload_id: str, number: int, offset: int, data: bytes, md5: str = ""
    ) -> Part:
        where = self._path(path)
        with translate_errors(self.name, where):
            token = self.client.endpoint_write_part(
                self.name, where, upload_id, number, offset, data, md5
            )
        return Part(number, token)

    def complete_multipart(
        self, path: str, upload_id: str, parts: Sequence[Part], *, mtime: float | None = None
    ) -> Entry:
        where = self._path(path)
        done = [(p.number, p.token) for p in parts]
        with translate_errors(self.name, where):
            found = self.client.endpoint_complete_upload(
                self.name, where, upload_id, done, mtime=mtime
            )
        return _entry(found, self.prefix)

    def abort_multipart(self, path: str, upload_id: str) -> None:
        where = self._path(path)
        with contextlib.suppress(terrors.NoSuchPath), translate_errors(self.name, where):
            self.client.endpoint_abort_upload(self.name, where, upload_id)

    def delete(self, path: str) -> None:
        where = self._path(path)
        with translate_errors(self.name, where):
            self.client.endpoint_delete(self.name, where)

    def mkdir(self, path: str) -> None:
        where = self._path(path, allow_root=True)
        with translate_errors(self.name, where):
            self.client.endpoint_makedirs(self.name, where)

    def rename(self, src: str, dst: str) -> None:
        with translate_errors(self.name, src):
            self.client.endpoint_rename(self.name, self._path(src), self._path(dst))

    def copy(self, src: str, dst: str) -> Entry:
        raise terrors.Fatal("a relayed endpoint has no server-side copy")


_: type[EndpointDriver] = RelayDriver
