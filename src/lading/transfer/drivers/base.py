"""The endpoint driver contract: the few primitives every storage kind implements.

Paths are relative to the driver's root (a directory, a bucket and prefix...), separated by
'/', never starting with '/' and never containing '.' or '..' components; `check_path` is the
one validator. Listings are recursive, hold files only, and are sorted by path (code point
order, which is S3's UTF-8 byte order), so that two of them can be merged in one pass without
holding either. Every method raises only `lading.transfer.errors` (drivers translate their
foreign exceptions at the boundary).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from lading.transfer.errors import InvalidPath


@dataclass(frozen=True, slots=True)
class Entry:
    """One file: its path under the root, size, modification time and known checksum."""

    path: str
    size: int
    mtime: float  # seconds since the epoch
    checksum: str | None = None  # "md5:<hex>" or "etag:<opaque>" when known without reading


@dataclass(frozen=True, slots=True)
class DriverFeatures:
    """What a driver can do beyond the required primitives; generic code reads these."""

    server_side_copy: bool = False  # copy() within this driver's store
    multipart: bool = False  # start/write_part/complete_multipart (parallel parts)
    native_checksum: bool = False  # listings carry an MD5 (or an ETag) without reading
    set_mtime: bool = False  # write(mtime=...) sets the file's modification time
    min_part_size: int = 0
    max_parts: int = 10_000


@dataclass(frozen=True, slots=True)
class Part:
    """A written part: its number (from 1) and the token the completion needs."""

    number: int
    token: str


class EndpointDriver(Protocol):
    """A storage location transfers read from and write to."""

    features: DriverFeatures

    @property
    def identity(self) -> str:
        """A string equal for two drivers over the same store (server-side copy is possible)."""
        ...

    def list(self, path: str = "") -> Iterator[Entry]:
        """Every file under directory `path` (recursively), sorted by path; empty if missing."""
        ...

    def stat(self, path: str) -> Entry:
        """The file at `path`; NoSuchPath if there is none."""
        ...

    def open_read(self, path: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        """The bytes of `path` from `start` (`length` of them, or to the end); NoSuchPath."""
        ...

    def write(
        self, path: str, chunks: Iterable[bytes], *, size: int, mtime: float | None = None
    ) -> Entry:
        """Store `chunks` at `path` atomically (readers see the old or the new file), creating
        parent directories; returns the written entry. Idempotent."""
        ...

    def start_multipart(self, path: str, size: int) -> str:
        """Begin a multipart write of `size` bytes at `path`; returns its upload id."""
        ...

    def write_part(
        self, path: str, upload_id: str, number: int, offset: int, data: bytes, md5: str = ""
    ) -> Part:
        """Write part `number` (from 1), the bytes at `offset` of the file. Idempotent.

        `md5` is the hex MD5 of `data` when the caller has it (so it is not computed twice).
        """
        ...

    def complete_multipart(
        self, path: str, upload_id: str, parts: Sequence[Part], *, mtime: float | None = None
    ) -> Entry:
        """Assemble the parts into the file at `path`; NoSuchPath if the upload is gone."""
        ...

    def abort_multipart(self, path: str, upload_id: str) -> None:
        """Drop an unfinished multipart write. Idempotent."""
        ...

    def delete(self, path: str) -> None:
        """Remove the file at `path`. Idempotent (no error if it is already gone)."""
        ...

    def mkdir(self, path: str) -> None:
        """Create directory `path` and its parents. Idempotent."""
        ...

    def rename(self, src: str, dst: str) -> None:
        """Move the file `src` to `dst`; NoSuchPath if `src` is missing."""
        ...

    def copy(self, src: str, dst: str) -> Entry:
        """Copy within the store without moving bytes through the client (server_side_copy)."""
        ...


def check_path(path: str, *, allow_root: bool = False) -> str:
    """Normalise a relative path ('a//b/' -> 'a/b'); InvalidPath for '..', '.' or NUL."""
    if "\x00" in path:
        raise InvalidPath(path, "contains a NUL character")
    parts = [p for p in path.split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise InvalidPath(path, "'.' and '..' are not allowed")
    if not parts and not allow_root:
        raise InvalidPath(path, "names no file")
    return "/".join(parts)


def join(base: str, rel: str) -> str:
    """base/rel without doubled or leading slashes."""
    return f"{base}/{rel}" if base and rel else base or rel
