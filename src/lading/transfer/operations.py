"""One verified file copy: server-side when both sides are one store, else streamed.

The source's MD5 is computed once, from the bytes as they are read, and compared with what the
source listed (an S3 ETag) and with what the destination reports (an S3 ETag; for a multipart
write, the MD5 of the parts' MD5s, which is what S3 returns) or, when the destination reports
nothing, with a hash of the bytes read back.
A mismatch raises `ChecksumMismatch`, which the engine retries (so the file is copied again).

A file up to `upload_cutoff` bytes (rclone's default: 200 MiB) is sent as one streamed write,
its MD5 computed from the chunks as they pass (memory: one chunk, whatever the file's size). A
larger file is written in parts, in parallel on the given executor, and every finished part
is saved in the checkpoint: a copy that is tried again, by this process or another one after a
crash, sends only the parts that are missing.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, wait
from dataclasses import dataclass

from lading.transfer.checkpoint import Checkpoint, PartState
from lading.transfer.drivers.base import EndpointDriver, Entry, Part
from lading.transfer.errors import (
    ChecksumMismatch,
    EndpointUnavailable,
    NoSuchPath,
    TransferFailure,
    TruncatedRead,
)
from lading.transfer.plan import same_checksum

DEFAULT_PART_SIZE = 16 * 1024 * 1024
DEFAULT_UPLOAD_CUTOFF = 200 * 1024 * 1024


class Cancelled(TransferFailure):
    default_message = "The transfer was cancelled."


@dataclass(frozen=True, slots=True)
class CopyOptions:
    part_size: int = DEFAULT_PART_SIZE
    verify: bool = True
    preserve_mtime: bool = False
    upload_cutoff: int = DEFAULT_UPLOAD_CUTOFF  # larger files go in parts


@dataclass(frozen=True, slots=True)
class Copied:
    """The outcome of one copy: the checksum recorded and the bytes actually sent."""

    checksum: str | None
    bytes_sent: int
    server_side: bool = False
    parts_resumed: int = 0


def _ignore(_: int) -> None:
    pass


def part_size_for(size: int, wanted: int, dst: EndpointDriver) -> int:
    """A part size at least `wanted` and the driver's minimum, with at most max_parts parts."""
    features = dst.features
    size_for_max = -(-size // features.max_parts)
    return max(wanted, features.min_part_size, size_for_max, 1)


def composite_etag(md5s: Iterable[str]) -> str:
    """S3's multipart ETag: the MD5 of the parts' MD5 digests, then '-' and the part count."""
    digests = [bytes.fromhex(m) for m in md5s]
    return hashlib.md5(b"".join(digests)).hexdigest() + f"-{len(digests)}"


def fingerprint(entry: Entry) -> str:
    return f"{entry.size}:{entry.mtime:.6f}:{entry.checksum or ''}"


def checkpoint_key(dst: EndpointDriver, path: str) -> str:
    return f"{dst.identity}|{path}"


def copy_one(
    src: EndpointDriver,
    entry: Entry,
    dst: EndpointDriver,
    dst_path: str,
    *,
    options: CopyOptions = CopyOptions(),
    parts: Executor | None = None,
    checkpoint: Checkpoint | None = None,
    moved: Callable[[int], None] = _ignore,
    cancel: threading.Event | None = None,
    retry_part: Callable[[Callable[[], None]], None] | None = None,
) -> Copied:
    """Copy `entry` of `src` to `dst_path` of `dst` and verify it; transfer errors raised.

    `retry_part(fn)` runs each part's upload (the engine passes its retry policy, so that a
    failed part is retried alone); without it a part's error fails the whole attempt.
    """
    if cancel is not None and cancel.is_set():
        raise Cancelled()
    if src.identity == dst.identity and dst.features.server_side_copy:
        return _server_side(src, entry, dst, dst_path)
    mtime = entry.mtime if options.preserve_mtime else None
    if dst.features.multipart and parts is not None and entry.size > options.upload_cutoff:
        return _multipart(
            src, entry, dst, dst_path, options, parts, checkpoint, moved, cancel, mtime, retry_part
        )
    return _single(src, entry, dst, dst_path, options, moved, mtime)


def _server_side(src: EndpointDriver, entry: Entry, dst: EndpointDriver, path: str) -> Copied:
    written = dst.copy(entry.path, path)
    if written.size != entry.size:
        raise TruncatedRead(path, entry.size, written.size)
    if same_checksum(entry.checksum, written.checksum) is False:
        raise ChecksumMismatch(path, str(entry.checksum), str(written.checksum))
    return Copied(written.checksum or entry.checksum, 0, server_side=True)


def _counted(
    chunks: Iterable[bytes], path: str, size: int, md5: hashlib._Hash, moved: Callable[[int], None]
) -> Iterator[bytes]:
    """The chunks, hashed and counted; TruncatedRead if they are not `size` bytes in all."""
    got = 0
    for chunk in chunks:
        md5.update(chunk)
        got += len(chunk)
        if got > size:
            raise TruncatedRead(path, size, got)
        moved(len(chunk))
        yield chunk
    if got != size:
        raise TruncatedRead(path, size, got)


def _single(
    src: EndpointDriver,
    entry: Entry,
    dst: EndpointDriver,
    path: str,
    options: CopyOptions,
    moved: Callable[[int], None],
    mtime: float | None,
) -> Copied:
    md5 = hashlib.md5()
    body = _counted(src.open_read(entry.path), entry.path, entry.size, md5, moved)
    written = dst.write(path, body, size=entry.size, mtime=mtime)
    computed = "md5:" + md5.hexdigest()
    source_known = bool(entry.checksum and entry.checksum.startswith("md5:"))
    if source_known and entry.checksum != computed:
        raise ChecksumMismatch(entry.path, str(entry.checksum), computed)  # a corrupted read
    if written.checksum and written.checksum.startswith("md5:"):
        if written.checksum != computed:
            raise ChecksumMismatch(path, computed, written.checksum)
    elif options.verify:  # the destination vouches for nothing: read it back
        check = hashlib.md5()
        for chunk in dst.open_read(path):
            check.update(chunk)
        if "md5:" + check.hexdigest() != computed:
            raise ChecksumMismatch(path, computed, "md5:" + check.hexdigest())
    return Copied(computed, entry.size)


def _multipart(
    src: EndpointDriver,
    entry: Entry,
    dst: EndpointDriver,
    path: str,
    options: CopyOptions,
    pool: Executor,
    checkpoint: Checkpoint | None,
    moved: Callable[[int], None],
    cancel: threading.Event | None,
    mtime: float | None,
    retry_part: Callable[[Callable[[], None]], None] | None,
) -> Copied:
    size = entry.size
    part_size = part_size_for(size, options.part_size, dst)
    key = checkpoint_key(dst, path)
    state = checkpoint.load(key) if checkpoint is not None else None
    resumed = 0
    if state is not None and (
        state.fingerprint != fingerprint(entry)
        or state.part_size != part_size
        or state.size != size
    ):
        dst.abort_multipart(path, state.upload_id)
        state = None
    if state is None:
        state = PartState(dst.start_multipart(path, size), part_size, size, fingerprint(entry))
        if checkpoint is not None:
            checkpoint.save(key, state)
    else:
        resumed = len(state.parts)
    lock = threading.Lock()
    sent = [0]
    count = -(-size // part_size)

    def one(number: int) -> None:
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        offset = (number - 1) * part_size
        length = min(part_size, size - offset)
        data = b"".join(src.open_read(entry.path, offset, length))
        if len(data) != length:
            raise TruncatedRead(entry.path, length, len(data))
        digest = hashlib.md5(data).hexdigest()
        try:
            part = dst.write_part(path, state.upload_id, number, offset, data, digest)
        except NoSuchPath as exc:
            if checkpoint is not None:
                checkpoint.drop(key)
            raise EndpointUnavailable(f"{path}: the multipart upload vanished") from exc
        with lock:
            state.parts[number] = (part.token, digest)
            sent[0] += length
            if checkpoint is not None:
                checkpoint.save(key, state)
        moved(length)

    missing = [n for n in range(1, count + 1) if n not in state.parts]

    given_up = threading.Event()  # a part failed for good: start no more of them

    def retried(number: int) -> None:
        if given_up.is_set():
            return
        try:
            if retry_part is None:
                one(number)
            else:
                retry_part(lambda: one(number))
        except BaseException:
            given_up.set()
            raise

    futures: list[Future[None]] = [pool.submit(retried, n) for n in missing]
    wait(futures)
    for future in futures:
        error = future.exception()
        if error is not None:
            raise error
    md5s = [state.parts[n][1] for n in range(1, count + 1)]
    expected = "etag:" + composite_etag(md5s)
    try:
        written = dst.complete_multipart(
            path,
            state.upload_id,
            [Part(n, state.parts[n][0]) for n in range(1, count + 1)],
            mtime=mtime,
        )
    except NoSuchPath as exc:
        if checkpoint is not None:
            checkpoint.drop(key)
        raise EndpointUnavailable(f"{path}: the multipart upload vanished") from exc
    if checkpoint is not None:
        checkpoint.drop(key)
    if written.checksum and written.checksum.startswith("etag:"):
        if written.checksum != expected:
            raise ChecksumMismatch(path, expected, written.checksum)
    elif options.verify:
        got = [
            hashlib.md5(b"".join(dst.open_read(path, (n - 1) * part_size, part_size))).hexdigest()
            for n in range(1, count + 1)
        ]
        if got != md5s:
            raise ChecksumMismatch(path, expected, "etag:" + composite_etag(got))
    return Copied(expected, sent[0], parts_resumed=resumed)


def md5_of(driver: EndpointDriver, entry: Entry) -> str:
    """The entry's MD5 ("md5:<hex>"): from its listing when known, else by reading it."""
    if entry.checksum and entry.checksum.startswith("md5:"):
        return entry.checksum
    md5 = hashlib.md5()
    for chunk in driver.open_read(entry.path):
        md5.update(chunk)
    return "md5:" + md5.hexdigest()
