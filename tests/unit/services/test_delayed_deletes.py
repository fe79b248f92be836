"""DelayedDeletes: replaced blobs outlive the commit that dropped them by the delay, and no
longer than that, nor than the server."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

from lading.services.deletes import DelayedDeletes
from lading.storage.local import LocalBlobStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def blob(store: LocalBlobStore) -> str:
    writer = store.open_writer()
    writer.write(b"bytes")
    return writer.commit()


def exists(store: LocalBlobStore, blob_id: str) -> bool:
    return os.path.exists(store.blob_path(blob_id))


def test_blobs_go_once_due_and_the_rest_at_close(tmp_path: Path) -> None:
    store, clock = LocalBlobStore(tmp_path, fsync=False), Clock()
    deletes = DelayedDeletes(store, delay=60, clock=clock)
    early, late = blob(store), blob(store)

    async def scenario() -> None:
        running = asyncio.create_task(deletes.run())
        await asyncio.sleep(0)  # it starts: from now on blobs wait
        await asyncio.to_thread(deletes.add, [early])  # as the services do, off the loop
        clock.now += 30
        await asyncio.to_thread(deletes.add, [late])
        await asyncio.sleep(1.2)
        assert exists(store, early) and exists(store, late)  # neither is due
        clock.now += 31  # early is due, late not yet
        for _ in range(30):
            await asyncio.sleep(0.1)
            if not exists(store, early):
                break
        assert not exists(store, early) and exists(store, late)
        running.cancel()

    asyncio.run(scenario())
    deletes.close()  # a stopping server
    assert not exists(store, late)


def test_without_its_task_a_blob_goes_at_once(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path, fsync=False)
    deletes = DelayedDeletes(store, delay=60)
    gone = blob(store)
    deletes.add([gone])  # nothing runs the delay (a process that does not serve)
    assert not exists(store, gone)
    deletes.add([])  # nothing to do


def test_a_blob_handed_over_while_closing_is_deleted(tmp_path: Path) -> None:
    """A close that ran between add's look at whether blobs wait and its putting one in
    line left that blob behind: held by nobody, deleted by nobody."""
    store = LocalBlobStore(tmp_path, fsync=False)
    closing: list[threading.Thread] = []

    def clock() -> float:  # add reads the clock to put its blob in line: close then
        if not closing:
            closing.append(threading.Thread(target=deletes.close))
            closing[0].start()
            closing[0].join(timeout=0.5)  # it waits for add (or, unguarded, is done)
        return 1000.0

    deletes = DelayedDeletes(store, delay=60, clock=clock)
    late = blob(store)

    async def scenario() -> None:
        running = asyncio.create_task(deletes.run())
        await asyncio.sleep(0)
        await asyncio.to_thread(deletes.add, [late])
        closing[0].join()
        running.cancel()

    asyncio.run(scenario())
    assert not exists(store, late)
