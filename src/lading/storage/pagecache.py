"""How much of a file range is in the page cache: Linux's cachestat(2) (Linux 6.5 and later).

The blob store reads a range that is not wholly cached with O_DIRECT instead of through the
cache (see `LocalBlobStore.read`). Asking with a non-blocking read (RWF_NOWAIT) instead would
not do: on a miss it starts the kernel's readahead of the range, so the direct read after it
would read the same bytes a second time.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

CACHESTAT = 451  # the syscall's number, the same on every Linux architecture


class _Range(ctypes.Structure):
    _fields_ = [("off", ctypes.c_uint64), ("len", ctypes.c_uint64)]


class _Stat(ctypes.Structure):
    _fields_ = [
        ("nr_cache", ctypes.c_uint64),
        ("nr_dirty", ctypes.c_uint64),
        ("nr_writeback", ctypes.c_uint64),
        ("nr_evicted", ctypes.c_uint64),
        ("nr_recently_evicted", ctypes.c_uint64),
    ]


class PageCache:
    """`cached_pages(fd, offset, length)`, or None where the kernel cannot tell."""

    def __init__(self) -> None:
        self._syscall = None
        if sys.platform.startswith("linux"):
            libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
            self._syscall = libc.syscall
        self.page = os.sysconf("SC_PAGESIZE") if hasattr(os, "sysconf") else 4096

    def cached_pages(self, fd: int, offset: int, length: int) -> int | None:
        """Pages of fd's bytes offset..offset+length in the cache; None if unknown (an old
        kernel or a sandbox without cachestat: the caller stops asking)."""
        if self._syscall is None:
            return None
        span, stat = _Range(offset, length), _Stat()
        if self._syscall(CACHESTAT, fd, ctypes.byref(span), ctypes.byref(stat), 0) != 0:
            self._syscall = None  # ENOSYS, EPERM: the answer will not change
            return None
        return int(stat.nr_cache)

    def pages_in(self, offset: int, length: int) -> int:
        """How many pages the range touches."""
        first = offset // self.page
        last = (offset + length - 1) // self.page
        return last - first + 1
