"""An in-memory endpoint: the reference driver every other one is compared with."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from lading.transfer.drivers.base import DriverFeatures, EndpointDriver, Entry, Part, check_path
from lading.transfer.errors import NoSuchPath


@dataclass
class _File:
    data: bytes
    mtime: float


@dataclass
class MemoryDriver:
    """Files in a dict, guarded by a lock; listings are snapshots sorted by path."""

    name: str = "memory"
    features: DriverFeatures = DriverFeatures(
        server_side_copy=True, multipart=True, native_checksum=True, set_mtime=True
    )
    files: dict[str, _File] = field(default_factory=dict)
    uploads: dict[str, dict[int, bytes]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def identity(self) -> str:
        return f"memory:{id(self)}"

    def _entry(self, path: str, f: _File) -> Entry:
        return Entry(path, len(f.data), f.mtime, "md5:" + hashlib.md5(f.data).hexdigest())

    def list(self, path: str = "") -> Iterator[Entry]:
        base = check_path(path, allow_root=True)
        prefix = base + "/" if base else ""
        with self.lock:
            found = sorted((p, f) for p, f in self.files.items() if p.startswith(prefix))
        for p, f in found:
            yield self._entry(p, f)

    def stat(self, path: str) -> Entry:
        path = check_path(path)
        with self.lock:
            f = self.files.get(path)
        if f is None:
            raise NoSuchPath(path)
        return self._entry(path, f)

    def open_read(self, path: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        path = check_path(path)
        with self.lock:
            f = self.files.get(path)
        if f is None:
            raise NoSuchPath(path)
        end = len(f.data) if length is None else start + length
        data = f.data[start:end]
        return iter([data[i : i + (1 << 20)] for i in range(0, len(data), 1 << 20)] or [b""])

    def write(
        self, path: str, chunks: Iterable[bytes], *, size: int, mtime: float | None = None
    ) -> Entry:
        path = check_path(path)
        f = _File(b"".join(chunks), time.time() if mtime is None else mtime)
        with self.lock:
            self.files[path] = f
        return self._entry(path, f)

    def start_multipart(self, path: str, size: int) -> str:
        check_path(path)
        upload_id = uuid.uuid4().hex
        with self.lock:
            self.uploads[upload_id] = {}
        return upload_id

    def write_part(
        self, path: str, upload_id: str, number: int, offset: int, data: bytes, md5: str = ""
    ) -> Part:
        with self.lock:
            if upload_id not in self.uploads:
                raise NoSuchPath(f"{path} (upload {upload_id})")
            self.uploads[upload_id][number] = bytes(data)
        return Part(number, md5 or hashlib.md5(data).hexdigest())

    def complete_multipart(
        self, path: str, upload_id: str, parts: Sequence[Part], *, mtime: float | None = None
    ) -> Entry:
        path = check_path(path)
        with self.lock:
            stored = self.uploads.pop(upload_id, None)
            if stored is None or any(p.number not in stored for p in parts):
                raise NoSuchPath(f"{path} (upload {upload_id})")
            f = _File(b"".join(stored[p.number] for p in parts), mtime or time.time())
            self.files[path] = f
        return self._entry(path, f)

    def abort_multipart(self, path: str, upload_id: str) -> None:
        with self.lock:
            self.uploads.pop(upload_id, None)

    def delete(self, path: str) -> None:
        path = check_path(path)
        with self.lock:
            self.files.pop(path, None)

    def mkdir(self, path: str) -> None:
        check_path(path, allow_root=True)  # directories are implied by the files under them

    def rename(self, src: str, dst: str) -> None:
        src, dst = check_path(src), check_path(dst)
        with self.lock:
            if src not in self.files:
                raise NoSuchPath(src)
            self.files[dst] = self.files.pop(src)

    def copy(self, src: str, dst: str) -> Entry:
        src, dst = check_path(src), check_path(dst)
        with self.lock:
            f = self.files.get(src)
            if f is None:
                raise NoSuchPath(src)
            self.files[dst] = copied = _File(f.data, time.time())
        return self._entry(dst, copied)


_: type[EndpointDriver] = MemoryDriver
