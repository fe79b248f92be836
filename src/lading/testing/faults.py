"""A driver wrapper that fails on purpose, for fault-injection tests of the engine.

`FaultyDriver(inner, faults)` passes every call through to `inner` except the ones a `Fault`
matches: the first `times` matching calls of `op` (on paths containing `path`) raise the
fault's error, sleep, truncate what they read, or corrupt what they write. The wrapped driver
is a real one (memory, local or S3 against a running server); nothing of the engine is mocked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from lading.transfer.drivers.base import DriverFeatures, EndpointDriver, Entry, Part
from lading.transfer.errors import EndpointUnavailable


def reset() -> Exception:
    return ConnectionResetError(104, "Connection reset by peer")


def http_500() -> Exception:
    return EndpointUnavailable("InternalError", 500)


def http_503() -> Exception:
    return EndpointUnavailable("SlowDown", 503)


@dataclass
class Fault:
    """What to break: `op` is a driver method name ("open_read", "write", "write_part"...)."""

    op: str
    times: int = 1
    path: str = ""
    error: Callable[[], Exception] | None = None
    delay: float = 0.0
    truncate: bool = False  # open_read yields half the bytes
    corrupt: bool = False  # write / write_part flip the first byte
    hits: int = 0

    def matches(self, op: str, path: str) -> bool:
        return op == self.op and self.path in path and self.hits < self.times


@dataclass
class FaultyDriver:
    inner: EndpointDriver
    faults: Sequence[Fault] = ()
    lock: threading.Lock = field(default_factory=threading.Lock)
    features: DriverFeatures = field(init=False)

    def __post_init__(self) -> None:
        self.features = self.inner.features

    @property
    def identity(self) -> str:
        return self.inner.identity  # the same store: checkpoints and server-side copies apply

    def _hit(self, op: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(op, path):
                    fault.hits += 1
                    break
            else:
                return None
        if fault.delay:
            time.sleep(fault.delay)
        if fault.error is not None:
            raise fault.error()
        return fault

    @property
    def injected(self) -> int:
        return sum(f.hits for f in self.faults)

    def list(self, path: str = "") -> Iterator[Entry]:
        self._hit("list", path)
        return self.inner.list(path)

    def stat(self, path: str) -> Entry:
        self._hit("stat", path)
        return self.inner.stat(path)

    def open_read(self, path: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        fault = self._hit("open_read", path)
        data = self.inner.open_read(path, start, length)
        return _truncated(data) if fault is not None and fault.truncate else data

    def write(
        self, path: str, chunks: Iterable[bytes], *, size: int, mtime: float | None = None
    ) -> Entry:
        fault = self._hit("write", path)
        if fault is not None and fault.corrupt:
            chunks = _corrupted(chunks)
        return self.inner.write(path, chunks, size=size, mtime=mtime)

    def start_multipart(self, path: str, size: int) -> str:
        self._hit("start_multipart", path)
        return self.inner.start_multipart(path, size)

    def write_part(
        self, path: str, upload_id: str, number: int, offset: int, data: bytes, md5: str = ""
    ) -> Part:
        fault = self._hit("write_part", path)
        if fault is not None and fault.corrupt:
            data = b"".join(_corrupted([data]))
        return self.inner.write_part(path, upload_id, number, offset, data, md5)

    def complete_multipart(
        self, path: str, upload_id: str, parts: Sequence[Part], *, mtime: float | None = None
    ) -> Entry:
        self._hit("complete_multipart", path)
        return self.inner.complete_multipart(path, upload_id, parts, mtime=mtime)

    def abort_multipart(self, path: str, upload_id: str) -> None:
        self.inner.abort_multipart(path, upload_id)

    def delete(self, path: str) -> None:
        self._hit("delete", path)
        self.inner.delete(path)

    def mkdir(self, path: str) -> None:
        self.inner.mkdir(path)

    def rename(self, src: str, dst: str) -> None:
        self.inner.rename(src, dst)

    def copy(self, src: str, dst: str) -> Entry:
        self._hit("copy", src)
        return self.inner.copy(src, dst)


def _truncated(chunks: Iterator[bytes]) -> Iterator[bytes]:
    data = b"".join(chunks)
    yield data[: len(data) // 2]


def _corrupted(chunks: Iterable[bytes]) -> Iterator[bytes]:
    first = True
    for chunk in chunks:
        if first and chunk:
            chunk = bytes([chunk[0] ^ 0xFF]) + chunk[1:]
            first = False
        yield chunk


_: type[EndpointDriver] = FaultyDriver
__all__ = ["Fault", "FaultyDriver", "http_500", "http_503", "reset"]
