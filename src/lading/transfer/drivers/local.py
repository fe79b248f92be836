"""POSIX directories under a root: nothing outside the root is reachable, symlinks included.

A path is checked twice: syntactically (`check_path` refuses '..') and after resolution (the
real path of the file, or of its parent when writing, must lie inside the real root), so a
symlink pointing out of the root is refused rather than followed. Listings skip symlinks.
Writes go to a hidden partial file beside the target and are renamed into place, so a reader
never sees half a file; multipart writes fill the partial file at each part's offset.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lading.transfer.drivers.base import DriverFeatures, EndpointDriver, Entry, Part, check_path
from lading.transfer.errors import (
    EndpointAccessDenied,
    EndpointUnavailable,
    Fatal,
    NoSuchContainer,
    NoSuchPath,
    PathOutsideRoot,
    QuotaExceeded,
    TransferFailure,
)

PARTIAL_PREFIX = ".lading-partial-"
_CHUNK = 1 << 20


@contextlib.contextmanager
def translate_errors(path: str) -> Iterator[None]:
    """OSError -> transfer errors, most specific first."""
    try:
        yield
    except TransferFailure:
        raise
    except FileNotFoundError as exc:
        raise NoSuchPath(path) from exc
    except PermissionError as exc:
        raise EndpointAccessDenied(f"{path}: permission denied") from exc
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise QuotaExceeded(f"{path}: {exc.strerror}") from exc
        if exc.errno in (errno.EIO, errno.EAGAIN, errno.ETIMEDOUT, errno.ESTALE):
            raise EndpointUnavailable(f"{path}: {exc.strerror}") from exc
        raise Fatal(f"{path}: {exc.strerror or exc}") from exc


@dataclass
class LocalDriver:
    """Files under `root` (which must exist)."""

    root: Path
    fsync: bool = False
    features: DriverFeatures = field(
        default_factory=lambda: DriverFeatures(
            server_side_copy=True, multipart=True, set_mtime=True
        )
    )

    def __post_init__(self) -> None:
        if not self.root.is_dir():
            raise NoSuchContainer(str(self.root))
        self.real_root = os.path.realpath(self.root)

    @property
    def identity(self) -> str:
        return f"local:{self.real_root}"

    # --- paths -----------------------------------------------------------------------------

    def _inside(self, real: str, path: str) -> str:
        if real != self.real_root and not real.startswith(self.real_root + os.sep):
            raise PathOutsideRoot(path)
        return real

    def _existing(self, path: str, *, allow_root: bool = False) -> str:
        """The real path of an existing (or missing) file, refused if it resolves outside."""
        rel = check_path(path, allow_root=allow_root)
        return self._inside(os.path.realpath(os.path.join(self.real_root, rel)), path)

    def _target(self, path: str) -> str:
        """Where a new file `path` goes: its parent resolved and inside, the name kept."""
        rel = check_path(path)
        parent, _, name = rel.rpartition("/")
        real_parent = os.path.realpath(os.path.join(self.real_root, parent))
        self._inside(real_parent, path)
        full = os.path.join(real_parent, name)
        if os.path.islink(full):
            self._inside(os.path.realpath(full), path)
        return full

    def _entry(self, rel: str, st: os.stat_result) -> Entry:
        return Entry(rel, st.st_size, st.st_mtime_ns / 1e9)

    # --- reading ---------------------------------------------------------------------------

    def list(self, path: str = "") -> Iterator[Entry]:
        base = check_path(path, allow_root=True)
        with translate_errors(path):
            start = self._existing(base, allow_root=True)
        if not os.path.isdir(start):
            return
        yield from self._walk(start, base)

    def _walk(self, directory: str, rel: str) -> Iterator[Entry]:
        # a directory sorts as "name/" so that its files land where their full paths belong
        try:
            with os.scandir(directory) as it:
                found = []
                for d in it:
                    if d.name.startswith(PARTIAL_PREFIX) or d.is_symlink():
                        continue
                    is_dir = d.is_dir(follow_symlinks=False)
                    if is_dir or d.is_file(follow_symlinks=False):
                        found.append((d.name + "/" if is_dir else d.name, d, is_dir))
        except FileNotFoundError:
            return
        except OSError as exc:
            with translate_errors(rel or "."):
                raise exc
        found.sort(key=lambda t: t[0])
        for _, d, is_dir in found:
            child = f"{rel}/{d.name}" if rel else d.name
            if is_dir:
                yield from self._walk(d.path, child)
            else:
                with translate_errors(child):
                    st = d.stat(follow_symlinks=False)
                yield self._entry(child, st)

    def stat(self, path: str) -> Entry:
        rel = check_path(path)
        with translate_errors(path):
            st = os.stat(self._existing(rel))
        if not os.path.isfile(self._existing(rel)):
            raise NoSuchPath(path)
        return self._entry(rel, st)

    def open_read(self, path: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        with translate_errors(path):
            real = self._existing(path)
            if os.path.isdir(real):
                raise NoSuchPath(path)
            f = io.FileIO(real, "r")
        return self._read(f, path, start, length)

    def _read(self, f: io.FileIO, path: str, start: int, length: int | None) -> Iterator[bytes]:
        with f, translate_errors(path):
            fd = f.fileno()
            left = -1 if length is None else length
            offset = start
            while left:
                want = _CHUNK if left < 0 else min(_CHUNK, left)
                data = os.pread(fd, want, offset)
                if not data:
                    return
                offset += len(data)
                if left > 0:
                    left -= len(data)
                yield data

    # --- writing ---------------------------------------------------------------------------

    def _partial(self, target: str, upload_id: str) -> str:
        head, name = os.path.split(target)
        return os.path.join(head, f"{PARTIAL_PREFIX}{upload_id}-{name}"[:255])

    def _finish(self, partial: str, target: str, rel: str, mtime: float | None) -> Entry:
        if mtime is not None:
            os.utime(partial, ns=(int(mtime * 1e9), int(mtime * 1e9)))
        if self.fsync:
            fd = os.open(partial, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(partial, target)
        return self._entry(rel, os.stat(target))

    def write(
        self, path: str, chunks: Iterable[bytes], *, size: int, mtime: float | None = None
    ) -> Entry:
        rel = check_path(path)
        with translate_errors(path):
            os.makedirs(os.path.dirname(self._target(rel)), exist_ok=True)
            target = self._target(rel)
            partial = self._partial(target, uuid.uuid4().hex[:12])
            try:
                with open(partial, "wb") as f:
                    for chunk in chunks:
                        f.write(chunk)
                return self._finish(partial, target, rel, mtime)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(partial)

    def start_multipart(self, path: str, size: int) -> str:
        rel = check_path(path)
        upload_id = uuid.uuid4().hex[:12]
        with translate_errors(path):
            os.makedirs(os.path.dirname(self._target(rel)), exist_ok=True)
            with open(self._partial(self._target(rel), upload_id), "wb") as f:
                f.truncate(size)
        return upload_id

    def write_part(
        self, path: str, upload_id: str, number: int, offset: int, data: bytes, md5: str = ""
    ) -> Part:
        with translate_errors(path):
            fd = os.open(self._partial(self._target(path), upload_id), os.O_WRONLY)
            try:
                view = memoryview(data)
                written = 0
                while written < len(view):
                    written += os.pwrite(fd, view[written:], offset + written)
            finally:
                os.close(fd)
        return Part(number, md5 or hashlib.md5(data).hexdigest())

    def complete_multipart(
        self, path: str, upload_id: str, parts: Sequence[Part], *, mtime: float | None = None
    ) -> Entry:
        rel = check_path(path)
        with translate_errors(f"{path} (upload {upload_id})"):
            target = self._target(rel)
            return self._finish(self._partial(target, upload_id), target, rel, mtime)

    def abort_multipart(self, path: str, upload_id: str) -> None:
        with translate_errors(path), contextlib.suppress(FileNotFoundError):
            os.unlink(self._partial(self._target(path), upload_id))

    # --- namespace -------------------------------------------------------------------------

    def delete(self, path: str) -> None:
        with translate_errors(path), contextlib.suppress(FileNotFoundError):
            os.unlink(self._target(path))

    def mkdir(self, path: str) -> None:
        rel = check_path(path, allow_root=True)
        with translate_errors(path):
            if rel:
                os.makedirs(self._target(rel), exist_ok=True)

    def rename(self, src: str, dst: str) -> None:
        with translate_errors(src):
            source = self._existing(src)
            if not os.path.isfile(source):
                raise NoSuchPath(src)
            target = self._target(dst)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.replace(source, target)

    def copy(self, src: str, dst: str) -> Entry:
        rel = check_path(dst)
        with translate_errors(src):
            source = self._existing(src)
            target = self._target(rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            partial = self._partial(target, uuid.uuid4().hex[:12])
            try:
                with open(source, "rb") as fin, open(partial, "wb") as fout:
                    _copy_fd(fin.fileno(), fout.fileno(), os.fstat(fin.fileno()).st_size)
                return self._finish(partial, target, rel, None)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(partial)


def _copy_fd(src: int, dst: int, size: int) -> None:
    """Copy `size` bytes in the kernel (copy_file_range), falling back to read/write."""
    left = size
    try:
        while left > 0:
            n = os.copy_file_range(src, dst, left)
            if n == 0:
                break
            left -= n
    except OSError:
        os.lseek(src, size - left, os.SEEK_SET)
        while chunk := os.read(src, _CHUNK):
            os.write(dst, chunk)


_: type[EndpointDriver] = LocalDriver
