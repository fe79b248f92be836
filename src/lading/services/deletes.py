"""Blobs a commit stopped referencing, deleted a while later.

An overwrite or a delete commits first and removes the replaced bytes after. A GET that looked
the version up just before that commit reads its blobs just after it, and a download reads
them for as long as it lasts: deleted at once, they were gone from under it (a 500, or a body
cut short). Ceph's radosgw keeps such data for two hours before its garbage collector removes
it; here the process whose commit dropped them (a server, or `lading worker` expiring them)
keeps them `storage.delete_delay_seconds`, in memory. A server that stops cleanly deletes what
it still holds (no GET of its own is under way any more; a worker's stop may still cut a GET of
a server short); one that crashes leaves them to the start-up sweep of blobs no row
references.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
from collections.abc import Callable, Iterable

from lading.concurrency import run_blocking
from lading.storage.base import BlobStore, delete_blobs

log = logging.getLogger(__name__)


class DelayedDeletes:
    """Blob ids to delete `delay` seconds after they were handed over (one process).

    Only while `run` runs: before it starts and once `close` has run (or where nothing runs
    it), handed-over blobs are deleted at once.
    """

    def __init__(
        self, blobs: BlobStore, delay: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.blobs = blobs
        self.delay = delay
        self.clock = clock
        self._due: collections.deque[tuple[float, list[str]]] = collections.deque()
        self._running = False
        # whether blobs wait, and the waiting ones, change together: a blob handed over while
        # `close` runs is either in what close deletes or deleted by `add` itself
        self._lock = threading.Lock()

    def add(self, blob_ids: Iterable[str]) -> None:
        """Hand over blobs no row references any more; in a worker thread (with no `run`
        under way, this deletes them)."""
        ids = list(blob_ids)
        if not ids:
            return
        with self._lock:
            held = self._running
            if held:
                self._due.append((self.clock() + self.delay, ids))
        if not held:
            delete_blobs(self.blobs, ids)

    def _take(self, *, everything: bool) -> list[str]:
        now = self.clock()
        ids: list[str] = []
        while self._due and (everything or self._due[0][0] <= now):
            ids += self._due.popleft()[1]
        return ids

    async def run(self) -> None:
        """Delete blobs as they fall due, checking every second (or every `delay`, if less)."""
        self._running = True
        while True:
            await asyncio.sleep(min(1.0, self.delay))
            ids = self._take(everything=False)
            if not ids:
                continue
            try:
                await run_blocking(delete_blobs, self.blobs, ids)
            except Exception:  # those are left to the start-up sweep; the next ones go on
                log.exception("delayed blob deletion failed")

    def close(self) -> None:
        """Delete everything held, now, and every blob handed over from now on (a stopping
        server: no GET is under way any more)."""
        with self._lock:
            self._running = False
            ids = self._take(everything=True)
        delete_blobs(self.blobs, ids)
