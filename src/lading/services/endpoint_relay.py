"""An endpoint's driver operations, relayed for its owner (for `lading cp ENDPOINT:PATH`).

Endpoint credentials never leave the server, so a client-side copy to or from a registered
endpoint reaches it through the control API: each driver primitive (list, stat, ranged read,
write, multipart, delete, mkdir) is one route, run by the server's own driver of the endpoint,
only for its owner. Paths are checked by that driver, so a POSIX endpoint stays confined to
its root. Transfer errors become domain errors named after them (the problem's `code`), so
that the client's driver raises the same transfer error, retryable or not.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from lading import errors
from lading.services.transfers import TransferService
from lading.transfer import errors as terrors
from lading.transfer.drivers.base import EndpointDriver, Entry, Part


class NoSuchPath(errors.NotFound):
    default_message = "The endpoint has no such file."


class NoSuchContainer(errors.NotFound):
    default_message = "The endpoint's bucket or directory does not exist."


class EndpointAccessDenied(errors.AccessDenied):
    default_message = "The endpoint refused access."


class PathOutsideRoot(errors.AccessDenied):
    default_message = "The path is outside the endpoint's root."


class EndpointUnavailable(errors.ServiceUnavailable):
    default_message = "The endpoint did not answer; try again."


class TruncatedRead(errors.ServiceUnavailable):
    default_message = "The endpoint sent fewer bytes than expected; try again."


class ChecksumMismatch(errors.ServiceUnavailable):
    default_message = "The bytes did not match their checksum; try again."


class InvalidPath(errors.InvalidRequest):
    default_message = "The path is not valid."


class QuotaExceeded(errors.Conflict):
    default_message = "The endpoint is out of space."


class EndpointFailure(errors.InvalidRequest):
    default_message = "The endpoint refused the operation."


_AS: tuple[tuple[type[terrors.TransferFailure], type[errors.LadingError]], ...] = (
    (terrors.NoSuchPath, NoSuchPath),
    (terrors.NoSuchContainer, NoSuchContainer),
    (terrors.PathOutsideRoot, PathOutsideRoot),
    (terrors.EndpointAccessDenied, EndpointAccessDenied),
    (terrors.InvalidPath, InvalidPath),
    (terrors.QuotaExceeded, QuotaExceeded),
    (terrors.TruncatedRead, TruncatedRead),
    (terrors.ChecksumMismatch, ChecksumMismatch),
    (terrors.Retryable, EndpointUnavailable),
    (terrors.TransferFailure, EndpointFailure),
)


@contextlib.contextmanager
def relayed(name: str) -> Iterator[None]:
    """Transfer errors of the endpoint `name` -> the domain errors named after them."""
    try:
        yield
    except terrors.TransferFailure as exc:
        for cls, domain in _AS:
            if isinstance(exc, cls):
                raise domain(f"Endpoint {name!r}: {exc.message}") from exc
        raise  # pragma: no cover - TransferFailure is the last row


def entry_view(entry: Entry) -> dict[str, Any]:
    return {
        "path": entry.path,
        "size": entry.size,
        "mtime": entry.mtime,
        "checksum": entry.checksum,
    }


def _sized(chunks: Iterable[bytes], size: int, path: str) -> Iterator[bytes]:
    """The chunks; TruncatedRead unless they are `size` bytes (a short file is never kept)."""
    got = 0
    for chunk in chunks:
        got += len(chunk)
        if got > size:
            raise terrors.TruncatedRead(path, size, got)
        yield chunk
    if got != size:
        raise terrors.TruncatedRead(path, size, got)


class EndpointRelay:
    """The driver primitives of one user's endpoint, with its errors made domain errors."""

    def __init__(self, transfers: TransferService, owner_id: int, name: str) -> None:
        self.name = name
        row = transfers.store.get_endpoint(owner_id, name)  # NotFound: not the caller's
        with relayed(name):
            self.driver: EndpointDriver = transfers.driver(row)

    def features(self) -> dict[str, Any]:
        return dataclasses.asdict(self.driver.features)

    def list(self, path: str) -> Iterator[dict[str, Any]]:
        """The listing, its first entry fetched at once (an error is answered as a status)."""
        with relayed(self.name):
            entries = self.driver.list(path)
            first = next(entries, None)
        if first is None:
            return iter(())
        return self._rest(first, entries)

    def _rest(self, first: Entry, entries: Iterator[Entry]) -> Iterator[dict[str, Any]]:
        yield entry_view(first)
        with relayed(self.name):
            for entry in entries:
                yield entry_view(entry)

    def stat(self, path: str) -> dict[str, Any]:
        with relayed(self.name):
            return entry_view(self.driver.stat(path))

    def read(self, path: str, start: int, length: int | None) -> Iterator[bytes]:
        """The bytes (the file is opened here, so that a missing one is a status)."""
        with relayed(self.name):
            chunks = self.driver.open_read(path, start, length)
            first = next(iter(chunks), b"")
        return self._chunks(first, chunks)

    def _chunks(self, first: bytes, chunks: Iterable[bytes]) -> Iterator[bytes]:
        if first:
            yield first
        with relayed(self.name):
            yield from chunks

    def write(
        self, path: str, chunks: Iterable[bytes], size: int, mtime: float | None
    ) -> dict[str, Any]:
        body = _sized(chunks, size, path)
        with relayed(self.name):
            return entry_view(self.driver.write(path, body, size=size, mtime=mtime))

    def start_multipart(self, path: str, size: int) -> str:
        with relayed(self.name):
            return self.driver.start_multipart(path, size)

    def write_part(
        self, path: str, upload_id: str, number: int, offset: int, data: bytes, md5: str
    ) -> str:
        with relayed(self.name):
            return self.driver.write_part(path, upload_id, number, offset, data, md5).token

    def complete_multipart(
        self, path: str, upload_id: str, parts: Sequence[tuple[int, str]], mtime: float | None
    ) -> dict[str, Any]:
        done = [Part(number, token) for number, token in parts]
        with relayed(self.name):
            return entry_view(self.driver.complete_multipart(path, upload_id, done, mtime=mtime))

    def abort_multipart(self, path: str, upload_id: str) -> None:
        with relayed(self.name):
            self.driver.abort_multipart(path, upload_id)

    def delete(self, path: str) -> None:
        with relayed(self.name):
            self.driver.delete(path)

    def mkdir(self, path: str) -> None:
        with relayed(self.name):
            self.driver.mkdir(path)
