"""Blobs as files under DATA_DIR/blobs/xx/yy/<id>: written as <id>.part, fsynced, renamed.

The temporary lives in the blob's own fan-out directory, so concurrent writes spread over
65,536 directories instead of contending for one, and the rename never crosses directories.

A blob of DROP_BEHIND_BYTES or more leaves the page cache once it is fsynced (drop-behind):
the cache then recycles its pages for the next large upload instead of growing into memory
never touched before, which made the kernel's copy of each written byte the largest cost of
a large PUT (several times the MD5 of the same bytes), and a bulk ingest no longer pushes
small, often-read objects out of the cache. A read of such a blob soon after comes from disk.

Past DIRECT_BYTES a blob's bytes go to disk with O_DIRECT, in aligned pieces of STAGE_BYTES,
where the file system allows it: on a VM's disk buffered writes and the final fsync reached a
third of the speed of direct ones (and cost the kernel a copy of every byte), and writing as
the bytes arrive leaves the fsync little to wait for. The first DIRECT_BYTES and the unaligned
tail are written buffered, and the fsync makes all of it durable.

Reads follow the same rule: a read of DIRECT_READ_BYTES or more that the page cache does not
wholly hold (cachestat(2) tells) goes O_DIRECT into a buffer the reading thread keeps; a read
the cache holds is served from it. Filling the cache is what a cold read of a
large blob costs most on a VM whose memory the host takes back (a 1 GiB object just uploaded
in parts: 300 MiB/s through the cache, over 1 GiB/s direct), and it would evict the small,
often-read objects for bytes that are seldom read twice.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import mmap
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

from lading.storage.base import BlobStore, BlobWriter, StoreFeatures
from lading.storage.pagecache import PageCache


def _new_id() -> str:
    return uuid.uuid4().hex


PART = ".part"
DROP_BEHIND_BYTES = 8 * 1024 * 1024  # blobs this large leave the page cache once synced
DIRECT_BYTES = 8 * 1024 * 1024  # bytes of a blob written buffered before it turns to O_DIRECT
STAGE_BYTES = 1024 * 1024  # the aligned buffer each direct write sends
ALIGN = 4096  # offsets and lengths of direct I/O: a multiple of any logical block size
DIRECT_READ_BYTES = 256 * 1024  # reads this long bypass the cache unless it holds them
DIRECT_READ_MAX = 4 * 1024 * 1024  # longer reads go through the cache (no buffer that large)


class LocalBlobWriter:
    """Writes <id>.part beside where the blob will live; commit() fsyncs and renames it."""

    def __init__(self, store: LocalBlobStore) -> None:
        self._store = store
        self._id = blob_id = _new_id()
        # plain strings: pathlib's parsing costs more than the system calls of a small blob
        self._final = store.blob_path(blob_id)
        self._dir = self._final.rpartition("/")[0]
        self._tmp = self._final + PART
        self._size = 0
        self._stage: mmap.mmap | None = None  # once direct: bytes waiting for a full piece
        self._staged = 0  # bytes in the stage
        self._offset = 0  # where the stage's first byte goes in the file
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL  # read: turning direct re-reads a block
        try:
            self._fd = os.open(self._tmp, flags, 0o600)
        except FileNotFoundError:  # a new fan-out directory
            store.make_parents(self._final)
            self._fd = os.open(self._tmp, flags, 0o600)

    def write(self, data: bytes) -> None:
        self._size += len(data)
        if self._stage is not None:
            self._write_direct(memoryview(data))
            return
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        if self._size >= DIRECT_BYTES and self._store.fsync and self._store.direct_io:
            self._go_direct()

    def _go_direct(self) -> None:
        """Turn to O_DIRECT, staging from the last aligned offset (its bytes read back)."""
        self._offset = self._size - self._size % ALIGN
        head = os.pread(self._fd, self._size - self._offset, self._offset)  # before O_DIRECT
        flags = fcntl.fcntl(self._fd, fcntl.F_GETFL)
        try:
            fcntl.fcntl(self._fd, fcntl.F_SETFL, flags | os.O_DIRECT)
        except OSError:  # the file system has no direct I/O (tmpfs, some FUSE mounts)
            self._store.direct_io = False
            return
        self._stage = mmap.mmap(-1, STAGE_BYTES)  # page-aligned, as O_DIRECT needs
        self._stage[: len(head)] = head
        self._staged = len(head)

    def _write_direct(self, view: memoryview) -> None:
        stage = self._stage
        assert stage is not None
        while view:
            n = min(len(view), STAGE_BYTES - self._staged)
            stage[self._staged : self._staged + n] = view[:n]
            self._staged += n
            view = view[n:]
            if self._staged == STAGE_BYTES:
                self._pwrite(memoryview(stage), self._offset)
                self._offset += STAGE_BYTES
                self._staged = 0

    def _pwrite(self, view: memoryview, offset: int) -> None:
        while view:
            written = os.pwrite(self._fd, view, offset)
            view = view[written:]
            offset += written

    def _end_direct(self) -> None:
        """Write what is staged: its aligned part directly, the rest buffered."""
        stage = self._stage
        assert stage is not None
        aligned = self._staged - self._staged % ALIGN
        with memoryview(stage) as view:
            if aligned:
                self._pwrite(view[:aligned], self._offset)
            flags = fcntl.fcntl(self._fd, fcntl.F_GETFL)
            fcntl.fcntl(self._fd, fcntl.F_SETFL, flags & ~os.O_DIRECT)
            self._pwrite(view[aligned : self._staged], self._offset + aligned)
        stage.close()
        self._stage = None

    def commit(self) -> str:
        if self._stage is not None:
            self._end_direct()
        if self._store.fsync:
            os.fsync(self._fd)
            if self._size >= DROP_BEHIND_BYTES:  # clean pages only: after the fsync
                os.posix_fadvise(self._fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(self._fd)
        self._fd = -1
        os.rename(self._tmp, self._final)  # FileNotFoundError when a sweep took the temporary
        if self._store.fsync:
            self._store.fsync_dir(self._dir)
        return self._id

    def abort(self) -> None:
        if self._stage is not None:
            self._stage.close()
            self._stage = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._tmp)


class LocalBlobStore:
    """Blob store on any POSIX file system (local disk, CephFS, Lustre, GPFS, NFS)."""

    features = StoreFeatures(hardlink_copy=True)

    def __init__(self, root: Path, *, fsync: bool = True, direct_io: bool = True) -> None:
        self.root = root
        self.blob_dir = root / "blobs"
        self.blob_root = os.fspath(self.blob_dir)
        self._durable_tops: set[str] = set()  # first-level directories synced into blob_root
        self.fsync = fsync
        self.direct_io = direct_io  # large blobs go O_DIRECT, until the file system refuses it
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self._cache = PageCache()
        self._buffers = threading.local()  # each reading thread's aligned buffer

    def path_of(self, blob_id: str) -> Path:
        return Path(self.blob_path(blob_id))

    def blob_path(self, blob_id: str) -> str:
        """path_of as a string, for the hot paths (pathlib costs more than a small read)."""
        if len(blob_id) != 32 or not blob_id.isalnum():
            raise FileNotFoundError(blob_id)
        return f"{self.blob_root}/{blob_id[:2]}/{blob_id[2:4]}/{blob_id}"

    def make_parents(self, path: Path | str) -> None:
        """Create the fan-out directories above path, syncing their new entries if fsync is on.

        A first-level directory this process has made durable already is not synced again:
        in a young store nearly every blob opens a new second-level directory, and syncing
        both levels each time doubled the cost of that.
        """
        leaf = os.path.dirname(path)
        top = os.path.dirname(leaf)
        if top not in self._durable_tops:
            with contextlib.suppress(FileExistsError):
                os.mkdir(top)
            if self.fsync:
                self.fsync_dir(self.blob_root)
            self._durable_tops.add(top)
        try:
            os.mkdir(leaf)
        except FileExistsError:
            pass
        except FileNotFoundError:  # the first level was removed behind this process's back
            self._durable_tops.discard(top)
            self.make_parents(path)
            return
        if self.fsync:
            self.fsync_dir(top)

    def fsync_dir(self, directory: Path | str) -> None:
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def open_writer(self) -> BlobWriter:
        return LocalBlobWriter(self)

    def read(self, blob_id: str, offset: int, length: int) -> bytes:
        fd = os.open(self.blob_path(blob_id), os.O_RDONLY)
        try:
            if DIRECT_READ_BYTES <= length <= DIRECT_READ_MAX and self.direct_io:
                cached = self._cache.cached_pages(fd, offset, length)
                if cached is not None and cached < self._cache.pages_in(offset, length):
                    data = self._read_direct(fd, offset, length)
                    if data is not None:
                        return data
            return os.pread(fd, length, offset)
        finally:
            os.close(fd)

    def _read_direct(self, fd: int, offset: int, length: int) -> bytes | None:
        """Up to length bytes at offset, read with O_DIRECT; None if the file system refuses."""
        start = offset - offset % ALIGN
        span = -(-(offset + length - start) // ALIGN) * ALIGN
        buffer = getattr(self._buffers, "buffer", None)
        if buffer is None:  # page-aligned, as O_DIRECT needs, and reused: no fresh pages
            buffer = self._buffers.buffer = mmap.mmap(-1, DIRECT_READ_MAX + 2 * ALIGN)
        view = memoryview(buffer)
        try:
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
            fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_DIRECT)
            done = 0
            while done < span:  # short only at the end of the file
                got = os.preadv(fd, [view[done:span]], start + done)
                done += got
                if got == 0 or got % ALIGN:
                    break
        except OSError as exc:  # EINVAL: the file system has no direct I/O (tmpfs, some FUSE)
            if exc.errno != errno.EINVAL:
                raise
            self.direct_io = False
            return None
        skip = offset - start
        return bytes(view[skip : max(skip, min(done, skip + length))])

    def link_blob(self, blob_id: str) -> str:
        source = self.path_of(blob_id)
        target = self.path_of(_new_id())
        if not target.parent.is_dir():
            self.make_parents(target)
        os.link(source, target)
        os.utime(target)  # the link is new: the orphan sweep must not take it for an old blob
        if self.fsync:
            self.fsync_dir(target.parent)
        return target.name

    def delete(self, blob_id: str) -> None:
        self.path_of(blob_id).unlink(missing_ok=True)

    def _walk(self, *, temporary: bool) -> Iterator[tuple[str, str, float]]:
        """(name, path, mtime) of committed blobs, or of half-written ones."""
        for dirpath, _dirnames, filenames in os.walk(self.blob_dir):
            for name in filenames:
                if name.endswith(PART) != temporary:
                    continue
                path = os.path.join(dirpath, name)
                try:
                    yield name, path, os.stat(path).st_mtime
                except FileNotFoundError:
                    continue

    def iter_blobs(self) -> Iterator[tuple[str, float]]:
        for name, _path, mtime in self._walk(temporary=False):
            yield name, mtime

    def sweep_temporary(self, older_than: float) -> int:
        removed = 0
        for _name, path, mtime in self._walk(temporary=True):
            if mtime <= older_than:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                    removed += 1
        return removed


_: type[BlobStore] = LocalBlobStore
