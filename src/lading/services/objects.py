"""Objects: S3 semantics (ETags, checksums, conditions, copies, ranges) over blobs + metadata."""

from __future__ import annotations

import asyncio
import base64
import collections
import hashlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import anyio

from lading import checksums, errors
from lading.blob_ids import is_inline, new_inline_id
from lading.concurrency import run_blocking
from lading.encryption import (
    SSE_C,
    SSE_KMS,
    SSE_S3,
    Decryptor,
    Encryptor,
    Envelope,
    Keyring,
    ciphertext_range,
    new_sse_c,
    new_sse_kms,
    new_sse_s3,
    sse_c_data_key,
    unwrap,
)
from lading.metadata.hooks import Origin
from lading.metadata.models import NULL_VERSION, Bucket, ObjectVersion, Segment
from lading.metadata.store import MetadataStore, now_us
from lading.services.deletes import DelayedDeletes
from lading.storage.base import BlobStore, BlobWriter, delete_blobs

log = logging.getLogger(__name__)
T = TypeVar("T")

FLUSH_BYTES = 1024 * 1024  # bytes gathered before a hop to the writer thread
LANE_BATCHES = 4  # batches a large PUT's writing or hashing may fall behind its receiving
READ_BYTES = 1024 * 1024  # bytes read per hop when streaming a GET
READ_AHEAD = 3  # pieces of a GET being read at once, the one being sent included
MAX_KEY_BYTES = 1024
MAX_METADATA_BYTES = 2048
MAX_OBJECT_BYTES = 5 * 1024**4  # 5 TiB, reachable through multipart
MAX_PUT_BYTES = 5 * 1024**3  # 5 GiB, the most one PutObject or UploadPart may carry


def validate_key(key: str) -> None:
    """Raise KeyTooLong / InvalidArgument for keys S3 refuses."""
    if not key:
        raise errors.InvalidArgument("An object key must not be empty.")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise errors.KeyTooLong(key)


def validate_metadata(metadata: dict[str, str]) -> None:
    """Raise MetadataTooLarge when user metadata exceeds S3's 2 KB."""
    size = sum(len(k.encode()) + len(v.encode()) for k, v in metadata.items())
    if size > MAX_METADATA_BYTES:
        raise errors.MetadataTooLarge(
            f"Your metadata headers exceed the maximum allowed metadata size "
            f"({size} bytes of {MAX_METADATA_BYTES})."
        )


def new_version_id(bucket: Bucket) -> str:
    """The id of a new version: unique and time-ordered under versioning, else `null`."""
    if bucket.versioning != "Enabled":
        return NULL_VERSION
    return f"{time.time_ns() // 1000:014x}{secrets.token_hex(9)}"


def lock_check(now: int, bypass_governance: bool) -> Callable[[ObjectVersion], None]:
    """The in-transaction refusal to remove a version under legal hold or retention.

    COMPLIANCE retention holds for everyone, the bucket owner and administrators included;
    GOVERNANCE retention gives way to x-amz-bypass-governance-retention.
    """

    def check(version: ObjectVersion) -> None:
        if version.legal_hold:
            raise errors.ObjectLocked()
        if version.lock_until > now and (
            version.lock_mode == "COMPLIANCE" or not bypass_governance
        ):
            raise errors.ObjectLocked()

    return check


def verify_content_md5(header: str, md5: bytes) -> None:
    """Raise InvalidDigest for a malformed Content-MD5, BadDigest when it is not md5."""
    try:
        sent = base64.b64decode(header, validate=True)
    except ValueError as exc:
        raise errors.InvalidDigest() from exc
    if len(sent) != 16:
        raise errors.InvalidDigest()
    if sent != md5:
        raise errors.BadDigest()


def quote_etag(md5_hex: str) -> str:
    return f'"{md5_hex}"'


NEEDS_CUSTOMER_KEY = (
    "The object was stored using a form of Server Side Encryption. The correct parameters must "
    "be provided to retrieve the object."
)
NOT_APPLICABLE = "The encryption parameters are not applicable to this object."


@dataclass(frozen=True, slots=True)
class Sse:
    """The server-side encryption a write asks for: SSE-S3, SSE-KMS under a named KMS key, or
    SSE-C with the customer's key."""

    mode: str  # SSE_S3, SSE_KMS or SSE_C
    customer_key: bytes | None = None
    kms_key_id: str | None = None


def encryption_json(envelopes: list[Envelope]) -> dict[str, Any]:
    """The `encryption` of an object whose segments were encrypted under `envelopes`."""
    if len(envelopes) == 1:
        return dict(envelopes[0].to_json())
    first = envelopes[0]
    out: dict[str, Any] = {"mode": first.mode, "algorithm": first.algorithm}
    if first.customer_key_md5 is not None:
        out["customer-key-md5"] = first.customer_key_md5
    if first.mode == SSE_KMS and first.key_id is not None:
        out["key-id"] = first.key_id
    out["parts"] = [e.to_json() for e in envelopes]
    return out


def segment_envelopes(obj: ObjectVersion) -> list[Envelope] | None:
    """The envelope of each segment of an encrypted object; None for a plaintext one."""
    stored = obj.encryption
    if not stored:
        return None
    try:
        if "parts" in stored:
            envelopes = [Envelope.from_json(p) for p in stored["parts"]]
        else:
            envelopes = [Envelope.from_json(stored)]
    except (ValueError, TypeError) as exc:
        raise errors.LadingError(f"The object's encryption envelope is unreadable: {exc}") from None
    if len(envelopes) != len(obj.segments):
        raise errors.LadingError("The object's encryption envelopes do not match its data.")
    return envelopes


@dataclass(slots=True)
class BodyChecks:
    """What the client told us the body should hash to; `trailer` is read after the body."""

    content_md5: str | None = None
    algorithm: str | None = None  # additional checksum algorithm to compute and keep
    value: str | None = None  # its expected base64 value, when sent as a header
    trailer: Callable[[], str | None] | None = None  # its value, when sent as a trailer

    def expected(self) -> str | None:
        if self.value is not None:
            return self.value
        return self.trailer() if self.trailer is not None else None


@dataclass(frozen=True, slots=True)
class WrittenBlob:
    blob_id: str
    size: int
    md5: bytes
    checksum: str  # base64 of the checksum algorithm asked for, or ""
    checksum_digest: bytes = b""
    envelope: Envelope | None = None  # how the blob was encrypted, if it was
    inline: bytes | None = None  # the stored bytes of an inline blob, to commit with the row


@dataclass(frozen=True, slots=True)
class WriteConditions:
    """Conditional-write headers of PutObject and CompleteMultipartUpload."""

    if_match: str | None = None
    if_none_match: str | None = None

    def check(self, bucket: Bucket, key: str, current: ObjectVersion | None) -> None:
        live = current if current is not None and not current.is_delete_marker else None
        if self.if_none_match is not None and live and etag_matches(self.if_none_match, live.etag):
            raise errors.PreconditionFailed()
        if self.if_match is not None:
            if live is None:
                raise errors.NoSuchKey(bucket.name, key)
            if not etag_matches(self.if_match, live.etag):
                raise errors.PreconditionFailed()


@dataclass(frozen=True, slots=True)
class DeleteConditions:
    """Conditional-delete headers (If-Match, x-amz-if-match-last-modified-time and -size).

    They hold against the version being deleted; deleting what does not exist still succeeds
    (a key whose versions are all delete markers does not exist). A delete marker that is the
    current version over real versions has no ETag, size or time to match: conditions on them
    fail, as AWS answers 412 for an ETag when the current version is a delete marker; only
    If-Match '*' alone passes, the key holding data.
    """

    if_match: str | None = None
    last_modified: float | None = None  # epoch seconds
    size: int | None = None

    def __bool__(self) -> bool:
        return not (self.if_match is None and self.last_modified is None and self.size is None)

    def check(self, obj: ObjectVersion) -> None:
        if obj.is_delete_marker:
            wildcard = self.if_match is None or self.if_match.strip() == "*"
            if not wildcard or self.last_modified is not None or self.size is not None:
                raise errors.PreconditionFailed()
            return
        if self.if_match is not None and not etag_matches(self.if_match, obj.etag):
            raise errors.PreconditionFailed()
        if self.last_modified is not None and obj.last_modified // 1_000_000 != int(
            self.last_modified
        ):
            raise errors.PreconditionFailed()
        if self.size is not None and obj.size != self.size:
            raise errors.PreconditionFailed()


def etag_matches(header: str, etag: str) -> bool:
    """Match an If-Match / If-None-Match list against an ETag (weak comparison, '*' any)."""
    bare = etag.strip('"')
    for item in header.split(","):
        candidate = item.strip()
        if candidate == "*":
            return True
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate.strip('"') == bare:
            return True
    return False


@dataclass(frozen=True, slots=True)
class ReadConditions:
    """GetObject / HeadObject / copy-source conditions; times in epoch seconds."""

    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: float | None = None
    if_unmodified_since: float | None = None

    def check(self, obj: ObjectVersion, *, copy_source: bool = False) -> None:
        """S3's precedence: If-Match beats If-Unmodified-Since; If-None-Match beats IMS."""
        modified = obj.last_modified // 1_000_000
        if self.if_match is not None:
            if not etag_matches(self.if_match, obj.etag):
                raise errors.PreconditionFailed()
        elif self.if_unmodified_since is not None and modified > self.if_unmodified_since:
            raise errors.PreconditionFailed()
        if self.if_none_match is not None:
            unchanged = etag_matches(self.if_none_match, obj.etag)
        else:
            since = self.if_modified_since
            unchanged = since is not None and modified <= since
        if unchanged:
            if copy_source:
                raise errors.PreconditionFailed()
            raise errors.NotModified(obj.etag, obj.last_modified)


@dataclass(slots=True)
class NewObject:
    """What a write says about the object besides its bytes."""

    content_type: str = "binary/octet-stream"
    metadata: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    storage_class: str = "STANDARD"
    # per-version attributes, by ObjectVersion field: tags, acl, lock_mode, lock_until,
    # legal_hold, encryption
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Deleted:
    """What a DeleteObject did: the version it removed or created, and whether a marker."""

    version_id: str | None
    delete_marker: bool


class _Lane:
    """Runs fn on batches in worker threads, one at a time and in order, with at most
    LANE_BATCHES of them waiting: push() returns as soon as there is room."""

    def __init__(self, fn: Callable[[list[bytes]], None], executor: Executor | None) -> None:
        self.fn = fn
        self.executor = executor
        self.running: collections.deque[asyncio.Task[None]] = collections.deque()

    async def push(self, batch: list[bytes]) -> None:
        while len(self.running) >= LANE_BATCHES:
            await self.running.popleft()  # raises what the lane raised
        before = self.running[-1] if self.running else None
        self.running.append(asyncio.ensure_future(self._after(before, batch)))

    async def _after(self, before: asyncio.Task[None] | None, batch: list[bytes]) -> None:
        if before is not None:
            await asyncio.shield(before)  # a failure ends the lane: every later batch fails
        await run_blocking(self.fn, batch, executor=self.executor)

    async def drain(self) -> None:
        """Wait for every batch; raises what the lane raised."""
        while self.running:
            await self.running.popleft()

    async def settle(self) -> None:
        """Wait for every batch, whatever became of it (before cleaning up after a failure)."""
        await asyncio.gather(*self.running, return_exceptions=True)
        self.running.clear()


def _spans(
    segments: tuple[Segment, ...], start: int, end: int
) -> Iterator[tuple[int, Segment, int, int]]:
    """(index, segment, offset, stop) of each segment overlapping bytes start..end (inclusive):
    the segment's own byte range offset..stop (exclusive) within it."""
    position = 0
    for index, segment in enumerate(segments):
        seg_start, seg_end = position, position + segment.size - 1
        position += segment.size
        if seg_end < start or seg_start > end:
            continue
        yield index, segment, max(start, seg_start) - seg_start, min(end, seg_end) - seg_start + 1


class ObjectService:
    """Put, get, copy and delete objects; every method may raise lading.errors."""

    def __init__(
        self,
        meta: MetadataStore,
        blobs: BlobStore,
        writes: Executor | None = None,
        clock: Callable[[], int] = now_us,
        *,
        keyring: Keyring | None = None,
        kms: Keyring | None = None,
        inline_bytes: int = 0,
        deletes: DelayedDeletes | None = None,
    ) -> None:
        self.meta = meta
        self.blobs = blobs
        # where blobs no row references any more wait for GETs under way; None: deleted at once
        self.deletes = deletes
        # PutObject bodies up to this size are inline blobs, committed with their row
        self.inline_bytes = min(inline_bytes, FLUSH_BYTES)
        self.writes = writes  # where blob writes and their commits wait on fsync
        self.clock = clock  # epoch microseconds; retention is judged against it
        self.keyring = keyring  # SSE-S3 master keys
        self.kms = kms  # SSE-KMS keys, by the ids clients name

    # --- encryption ----------------------------------------------------------------------------

    def _keyring(self) -> Keyring:
        if self.keyring is None:
            raise errors.LadingError("Server-side encryption is not configured on this server.")
        return self.keyring

    def check_kms_key(self, key_id: str) -> None:
        """Refuse an SSE-KMS request naming a KMS key this server does not have."""
        if self.kms is None or key_id not in self.kms.key_ids:
            raise errors.InvalidArgument(f"Invalid keyId {key_id!r}: no such KMS key.")

    def _encryptor(self, sse: Sse) -> Encryptor:
        """An encryptor for one new blob under a fresh envelope."""
        if sse.mode == SSE_C:
            if sse.customer_key is None:
                raise ValueError("SSE-C needs the customer's key")
            envelope, data_key = new_sse_c(sse.customer_key)
        elif sse.mode == SSE_KMS:
            if sse.kms_key_id is None:
                raise ValueError("SSE-KMS needs a KMS key id")
            self.check_kms_key(sse.kms_key_id)
            assert self.kms is not None
            envelope, data_key = new_sse_kms(self.kms, sse.kms_key_id)
        else:
            envelope, data_key = new_sse_s3(self._keyring())
        return Encryptor(envelope, data_key)

    def _data_key(self, envelope: Envelope, customer_key: bytes | None) -> bytes:
        if envelope.mode == SSE_C:
            if customer_key is None:
                raise errors.InvalidRequest(NEEDS_CUSTOMER_KEY)
            return sse_c_data_key(envelope, customer_key)
        if envelope.mode == SSE_KMS:
            if self.kms is None:
                raise errors.LadingError(
                    f"The object is encrypted under KMS key {envelope.key_id!r}, and no KMS "
                    "keys are configured on this server."
                )
            return unwrap(self.kms, envelope)
        return unwrap(self._keyring(), envelope)

    def check_readable(self, obj: ObjectVersion, customer_key: bytes | None) -> None:
        """Refuse, before any byte is answered, a read that could not decrypt obj.

        An SSE-C object needs its key (InvalidRequest without, AccessDenied with another);
        SSE-C parameters for any other object are InvalidRequest; an SSE-S3 object whose
        master key is not configured is a server error.
        """
        envelopes = segment_envelopes(obj)
        is_sse_c = envelopes is not None and envelopes[0].mode == SSE_C
        if not is_sse_c and customer_key is not None:
            raise errors.InvalidRequest(NOT_APPLICABLE)
        for envelope in envelopes or ():
            self._data_key(envelope, customer_key)

    # --- writing bytes -------------------------------------------------------------------------

    async def write_blob(
        self,
        body: AsyncIterator[bytes],
        checks: BodyChecks,
        *,
        declared_size: int | None = None,
        limit: int = MAX_PUT_BYTES,
        sse: Sse | None = None,
    ) -> WrittenBlob:
        """Stream body into a new blob while hashing; verify the client's digests, then commit.

        Nothing is committed when a digest does not match (BadDigest, ChecksumMismatch) or the
        body is larger than limit (EntityTooLarge, refused before reading when declared so).
        With `sse` the blob holds only ciphertext; sizes and digests are the plaintext's.
        """
        return await self._write_then(body, checks, declared_size, limit, lambda w: w, sse)

    async def _write_then(
        self,
        body: AsyncIterator[bytes],
        checks: BodyChecks,
        declared_size: int | None,
        limit: int,
        then: Callable[[WrittenBlob], T],
        sse: Sse | None = None,
        inline: tuple[int, Callable[[WrittenBlob], Awaitable[T]]] | None = None,
    ) -> T:
        """write_blob, then `then(written)` in the same worker-thread hop as the last write.

        A small PUT thus costs one hop for its bytes and its row; when `then` raises, the
        blob just written is removed before the error reaches the caller. With `inline`
        (limit, then_inline), a body of at most `limit` bytes is not written at all: it is
        hashed on the loop and `then_inline` gets it as an inline blob (`written.inline`,
        ciphertext under SSE) to store with its row.
        """
        if declared_size is not None and declared_size > limit:
            raise errors.EntityTooLarge()
        md5 = hashlib.md5()
        extra = checksums.new_checksum(checks.algorithm) if checks.algorithm else None
        writer: BlobWriter | None = None
        encryptor = self._encryptor(sse) if sse is not None else None
        size = 0

        def write(chunks: list[bytes]) -> None:
            nonlocal writer
            if writer is None:
                writer = self.blobs.open_writer()
            for data in chunks:
                writer.write(data if encryptor is None else encryptor.feed(data))

        def digest(chunks: list[bytes]) -> None:
            for data in chunks:
                md5.update(data)
                if extra is not None:
                    extra.update(data)

        def flush(chunks: list[bytes]) -> None:
            write(chunks)
            digest(chunks)

        def record(blob_id: str, inline: bytes | None = None) -> WrittenBlob:
            """What was written, once every byte is hashed."""
            return WrittenBlob(
                blob_id,
                size,
                md5.digest(),
                extra.b64() if extra is not None else "",
                extra.digest() if extra is not None else b"",
                encryptor.envelope if encryptor is not None else None,
                inline,
            )

        def finish(chunks: list[bytes], expected: str | None) -> T:
            flush(chunks)
            self._verify_digests(md5.digest(), extra, checks, expected)
            assert writer is not None
            if encryptor is not None:
                writer.write(encryptor.finish())
            written = record(writer.commit())
            try:
                return then(written)
            except BaseException:
                delete_blobs(self.blobs, [written.blob_id])
                raise

        def inline_blob(data: bytes, expected: str | None) -> WrittenBlob:
            digest([data])
            self._verify_digests(md5.digest(), extra, checks, expected)
            stored = data if encryptor is None else encryptor.feed(data) + encryptor.finish()
            return record(new_inline_id(), stored)

        # two lanes: one worker thread after another writes the batches of chunks, and others
        # hash them, each lane in order and up to LANE_BATCHES behind the loop receiving the
        # next (each releases the GIL); neither waits for the other, as it did in lock-step
        lanes = (_Lane(write, self.writes), _Lane(digest, self.writes))
        batch: list[bytes] = []
        batched = 0
        try:
            async for chunk in body:
                size += len(chunk)
                if size > limit:
                    raise errors.EntityTooLarge()
                batch.append(chunk)
                batched += len(chunk)
                if batched >= FLUSH_BYTES:
                    for lane in lanes:
                        await lane.push(batch)
                    batch, batched = [], 0
            for lane in lanes:
                await lane.drain()
            if writer is None and inline is not None and size <= inline[0]:  # nothing flushed
                return await inline[1](inline_blob(b"".join(batch), checks.expected()))
            return await run_blocking(finish, batch, checks.expected(), executor=self.writes)
        except BaseException:
            with anyio.CancelScope(shield=True):
                for lane in lanes:
                    await lane.settle()
                if writer is not None:
                    await run_blocking(writer.abort)
            raise

    @staticmethod
    def _verify_digests(
        md5: bytes, extra: checksums.Checksum | None, checks: BodyChecks, expected: str | None
    ) -> None:
        if checks.content_md5 is not None:
            verify_content_md5(checks.content_md5, md5)
        if extra is not None and expected is not None and checks.algorithm:
            wanted = checksums.decode_b64_digest(checks.algorithm, expected)
            if wanted != extra.digest():
                raise errors.ChecksumMismatch(checks.algorithm)

    async def discard(self, blob_ids: Iterable[str]) -> None:
        """Remove blobs no row references any more (after the commit that dropped them)."""
        ids = list(blob_ids)
        if ids:
            with anyio.CancelScope(shield=True):
                await run_blocking(self._let_go, ids)

    def _let_go(self, blob_ids: list[str]) -> None:
        """`discard`, in a worker thread: at once, or in a server once GETs that may have
        looked the blobs up before the commit are done with them."""
        if self.deletes is not None:
            self.deletes.add(blob_ids)
        else:
            delete_blobs(self.blobs, blob_ids)

    # --- objects -------------------------------------------------------------------------------

    async def put_object(
        self,
        bucket: Bucket,
        key: str,
        body: AsyncIterator[bytes],
        *,
        owner_id: int,
        new: NewObject,
        checks: BodyChecks,
        conditions: WriteConditions | None = None,
        declared_size: int | None = None,
        sse: Sse | None = None,
        cause: str = "Put",
        origin: Origin | None = None,
    ) -> ObjectVersion:
        """Store a whole object; acknowledged only after the bytes and the row are durable.

        `cause` names the write for the change hooks (bucket notifications): "Put" or "Post";
        `origin` is the request that asked for it.
        """
        validate_key(key)
        validate_metadata(new.metadata)

        check = self._condition(bucket, key, conditions)

        def version(written: WrittenBlob) -> ObjectVersion:
            checks_map: dict[str, str] = {}
            if checks.algorithm:
                checks_map = {checks.algorithm.upper(): written.checksum, "type": "FULL_OBJECT"}
            attributes = dict(new.attributes)
            if written.envelope is not None:
                attributes["encryption"] = encryption_json([written.envelope])
            return ObjectVersion(
                bucket_id=bucket.id,
                key=key,
                version_id=new_version_id(bucket),
                size=written.size,
                etag=quote_etag(written.md5.hex()),
                last_modified=now_us(),
                content_type=new.content_type,
                segments=(Segment(written.blob_id, written.size),),
                metadata=new.metadata,
                headers=new.headers,
                checksums=checks_map,
                storage_class=new.storage_class,
                owner_id=owner_id,
                **attributes,
            )

        def store(written: WrittenBlob) -> ObjectVersion:
            obj = version(written)
            garbage = self.meta.put_object(bucket, obj, check=check, cause=cause, origin=origin)
            self._let_go(garbage)
            return obj

        async def store_inline(written: WrittenBlob) -> ObjectVersion:
            obj = version(written)
            assert written.inline is not None
            garbage = await self.meta.put_object_async(
                bucket,
                obj,
                check=check,
                cause=cause,
                origin=origin,
                inline=(written.blob_id, written.inline),
                executor=self.writes,
            )
            await self.discard(garbage)
            return obj

        inline = (self.inline_bytes, store_inline) if self.inline_bytes else None
        return await self._write_then(
            body, checks, declared_size, MAX_PUT_BYTES, store, sse, inline
        )

    @staticmethod
    def _condition(
        bucket: Bucket, key: str, conditions: WriteConditions | None
    ) -> Callable[[ObjectVersion | None], None]:
        """The in-transaction check of a conditional write (a no-op without conditions)."""

        def check(current: ObjectVersion | None) -> None:
            if conditions is not None:
                conditions.check(bucket, key, current)

        return check

    async def commit(
        self,
        bucket: Bucket,
        obj: ObjectVersion,
        conditions: WriteConditions | None,
        fresh_blobs: list[str],
        upload_id: str | None = None,
        cause: str = "Put",
        inline: tuple[str, bytes] | None = None,
        origin: Origin | None = None,
    ) -> ObjectVersion:
        """Commit obj as the current version; on failure drop the blobs written for it.

        `inline` (blob id, bytes) is an inline blob of obj's, inserted with its row."""

        check = self._condition(bucket, obj.key, conditions)
        try:
            garbage = await run_blocking(
                lambda: self.meta.put_object(
                    bucket,
                    obj,
                    check=check,
                    upload_id=upload_id,
                    cause=cause,
                    inline=inline,
                    origin=origin,
                ),
                executor=self.writes,
            )
        except BaseException:
            await self.discard(fresh_blobs)
            raise
        await self.discard(garbage)
        return obj

    async def head_object(
        self, bucket: Bucket, key: str, version_id: str | None = None
    ) -> ObjectVersion:
        return await run_blocking(self.meta.get_object, bucket, key, version_id)

    async def read(
        self,
        obj: ObjectVersion,
        start: int,
        end: int,
        customer_key: bytes | None = None,
        stored: bytes | None = None,
    ) -> AsyncIterator[bytes]:
        """Yield bytes start..end (inclusive) of obj, in pieces of at most READ_BYTES.

        An encrypted object is decrypted as it is read (`customer_key` opens SSE-C).
        `stored`: the bytes of obj's one blob as stored, when `open_object` read them.
        """
        envelopes = segment_envelopes(obj)
        if envelopes is None:
            if stored is not None:
                yield stored[start : end + 1]
                return
            async for data in self._read_plain(obj.segments, start, end):
                yield data
            return
        for index, segment, offset, stop in _spans(obj.segments, start, end):
            envelope = envelopes[index]
            pieces = self._decrypt(segment, envelope, customer_key, offset, stop, stored)
            async for data in pieces:
                yield data

    async def _read_plain(
        self, segments: tuple[Segment, ...], start: int, end: int
    ) -> AsyncIterator[bytes]:
        """Bytes start..end (inclusive) of unencrypted segments, READ_AHEAD pieces in flight.

        A piece is read while the ones before it are sent: reading from disk (a large blob
        is written past the page cache) and sending no longer take turns.
        """
        loop = asyncio.get_running_loop()
        pieces = (
            (segment.blob_id, position, min(READ_BYTES, stop - position))
            for _, segment, offset, stop in _spans(segments, start, end)
            for position in range(offset, stop, READ_BYTES)
        )
        reading: collections.deque[asyncio.Future[bytes]] = collections.deque()
        try:
            for piece in pieces:
                reading.append(loop.run_in_executor(None, self._read_piece, *piece))
                if len(reading) >= READ_AHEAD:
                    yield await reading.popleft()
            while reading:
                yield await reading.popleft()
        finally:
            for future in reading:  # the client went away: nobody waits for these
                future.cancel()

    def _read_piece(self, blob_id: str, offset: int, length: int) -> bytes:
        data = self.blobs.read(blob_id, offset, length)
        if len(data) != length:
            raise errors.LadingError(f"blob {blob_id} is shorter than its metadata says")
        return data

    async def _decrypt(
        self,
        segment: Segment,
        envelope: Envelope,
        customer_key: bytes | None,
        offset: int,
        stop: int,
        stored: bytes | None = None,
    ) -> AsyncIterator[bytes]:
        """Yield plaintext bytes offset..stop (exclusive) of one encrypted segment (read
        from `stored`, its ciphertext, when given)."""
        if envelope.plaintext_size != segment.size:
            raise errors.LadingError(f"blob {segment.blob_id} does not match its envelope")
        data_key = self._data_key(envelope, customer_key)
        span = ciphertext_range(envelope, offset, stop - 1)
        decryptor = Decryptor(envelope, data_key, span.first_chunk, span.skip, stop - offset)

        def step(position: int, length: int) -> bytes:
            if stored is not None:
                data = stored[position : position + length]
            else:
                data = self._read_piece(segment.blob_id, position, length)
            return decryptor.feed(data)  # decrypting releases the GIL: one hop for both

        position = span.cipher_start
        while position < span.cipher_end:
            length = min(READ_BYTES, span.cipher_end - position)
            plaintext = await run_blocking(step, position, length)
            if plaintext:
                yield plaintext
            position += length
        decryptor.finish()

    async def open_object(
        self, bucket: Bucket, key: str, version_id: str | None, *, inline_limit: int | None
    ) -> tuple[ObjectVersion, bytes | None]:
        """The version and, when its bytes are one blob that is inline or of at most
        inline_limit bytes, that blob as stored (ciphertext if encrypted: `read` and
        `copy_object` take it).

        Small-object GETs are bound by this. The version and an inline blob come from one
        lookup, so they always agree, even while an overwrite commits (which deletes the
        inline blob it replaces at once). Where the metadata store reads from local
        memory-mapped pages (SQLite), that runs on the loop: a worker-thread hop cost more
        CPU than the lookup itself. Otherwise (PostgreSQL, blob files) one worker-thread hop
        does the lookup and the file read. An inline_limit of None (HEAD) reads no bytes; 0
        reads inline blobs only (a copy source: blob files are linked, not read). Inline
        blobs of any size one can have (up to FLUSH_BYTES) come back, also those written
        while `inline_bytes` was larger than it is now.
        """
        limit = 0 if inline_limit is None else max(inline_limit, FLUSH_BYTES)
        file_limit = inline_limit or 0

        def lookup() -> tuple[ObjectVersion, Segment | None, bytes | None]:
            """The version, the file segment to read whole (if any), inline bytes (if any)."""
            obj, data = self.meta.get_object_inline(bucket, key, version_id, limit)
            if len(obj.segments) != 1:
                return obj, None, None
            if data is not None or obj.size > file_limit or obj.encryption:
                return obj, None, data
            return obj, obj.segments[0], None

        def work() -> tuple[ObjectVersion, bytes | None]:
            obj, segment, data = lookup()
            if segment is None:
                return obj, data
            return obj, self.blobs.read(segment.blob_id, 0, segment.size)

        if not self.meta.local_reads:
            return await run_blocking(work)
        obj, segment, data = lookup()
        if segment is None:
            return obj, data
        return obj, await run_blocking(self.blobs.read, segment.blob_id, 0, segment.size)

    async def delete_object(
        self,
        bucket: Bucket,
        key: str,
        version_id: str | None = None,
        conditions: DeleteConditions = DeleteConditions(),
        *,
        owner_id: int = 0,
        bypass_governance: bool = False,
        cause: str = "Delete",
        origin: Origin | None = None,
    ) -> Deleted:
        """Delete a key or one version; idempotent.

        Without a version id, a versioned bucket keeps every version and stacks a delete
        marker on top (a suspended one replaces the `null` version with it); with one, that
        version goes for good unless object lock holds it. `cause` ("Delete" or
        "LifecycleExpiration") names the deletion for the change hooks.
        """
        if version_id is None and bucket.versioning:
            marker = ObjectVersion(
                bucket_id=bucket.id,
                key=key,
                version_id=new_version_id(bucket),
                size=0,
                etag="",
                last_modified=now_us(),
                content_type="",
                owner_id=owner_id,
                is_delete_marker=True,
            )

            has_data = bool(conditions) and any(
                not version.is_delete_marker
                for version in await run_blocking(self.meta.versions_of, bucket, key)
            )

            def check_current(current: ObjectVersion | None) -> None:
                if not conditions or current is None:
                    return
                if current.is_delete_marker and not has_data:
                    return  # only delete markers: the key does not exist, the delete is done
                conditions.check(current)

            garbage = await run_blocking(
                lambda: self.meta.put_object(
                    bucket, marker, check=check_current, cause=cause, origin=origin
                ),
                executor=self.writes,
            )
            await self.discard(garbage)
            return Deleted(marker.version_id, True)
        locked = lock_check(self.clock(), bypass_governance)

        def check(version: ObjectVersion) -> None:
            if conditions:
                conditions.check(version)
            locked(version)

        removed, garbage = await run_blocking(
            lambda: self.meta.delete_object(
                bucket, key, version_id, check=check, cause=cause, origin=origin
            )
        )
        await self.discard(garbage)
        if removed is None:
            return Deleted(version_id, False)
        return Deleted(version_id, removed.is_delete_marker)

    async def update_object(
        self,
        bucket: Bucket,
        key: str,
        version_id: str | None,
        changes: Callable[[ObjectVersion], dict[str, Any]],
        cause: str = "Update",
        origin: Origin | None = None,
    ) -> ObjectVersion:
        """Change tags, ACL or lock of a version in place (no new version).

        `cause` names the change for the hooks: "ObjectTagging:Put", "ObjectTagging:Delete",
        "ObjectAcl:Put", "ObjectRetention:Put", "ObjectLegalHold:Put".
        """
        return await run_blocking(
            lambda: self.meta.update_object(bucket, key, version_id, changes, cause, origin)
        )

    async def copy_object(
        self,
        source: ObjectVersion,
        bucket: Bucket,
        key: str,
        *,
        owner_id: int,
        new: NewObject | None,
        attributes: dict[str, Any] | None = None,
        conditions: WriteConditions | None = None,
        sse: Sse | None = None,
        source_customer_key: bytes | None = None,
        stored: bytes | None = None,
        origin: Origin | None = None,
    ) -> ObjectVersion:
        """Copy source to bucket/key; `new` None keeps the source's metadata (COPY directive).

        `attributes` are the copy's tags, ACL and lock (none are carried over otherwise);
        `sse` is the copy's encryption and `source_customer_key` opens an SSE-C source.
        `stored`: the source's one blob as stored, when `open_object` read it (inline).

        Whole blobs are linked, not copied, where the store can (hard links on POSIX) and the
        copy keeps the source's encryption (plaintext, or SSE-S3 with its envelopes); other
        copies are decrypted and encrypted again, segment by segment. An inline source read
        with the version is committed from those bytes: the source's own inline blob may be
        gone by now, deleted by an overwrite.
        """
        validate_key(key)
        if new is not None:
            validate_metadata(new.metadata)
        envelopes = segment_envelopes(source)
        linkable = (envelopes is None and sse is None) or (
            envelopes is not None
            and all(e.mode == SSE_S3 for e in envelopes)
            and sse is not None
            and sse.mode == SSE_S3
        )
        if source.bucket_id == bucket.id and source.key == key and new is None and linkable:
            raise errors.InvalidRequest(
                "This copy request is illegal because it is trying to copy an object to itself "
                "without changing the object's metadata, storage class, website redirect "
                "location or encryption attributes."
            )
        encryption = source.encryption
        inline: tuple[str, bytes] | None = None
        if linkable and stored is not None and is_inline(source.segments[0].blob_id):
            inline = (new_inline_id(), stored)
            linked = [Segment(inline[0], source.size)]
        elif linkable:
            linked = await run_blocking(
                lambda: [Segment(self.blobs.link_blob(s.blob_id), s.size) for s in source.segments]
            )
        else:
            linked, encryption = await self._recode(source, sse, source_customer_key, stored)
        kept = new or NewObject(
            source.content_type, source.metadata, source.headers, source.storage_class
        )
        obj = replace(
            source,
            bucket_id=bucket.id,
            key=key,
            version_id=new_version_id(bucket),
            last_modified=now_us(),
            segments=tuple(linked),
            content_type=kept.content_type,
            metadata=kept.metadata,
            headers=kept.headers,
            storage_class=kept.storage_class,
            owner_id=owner_id,
            is_latest=True,
            is_delete_marker=False,
            row_id=0,
            **{
                "tags": {},
                "acl": None,
                "lock_mode": "",
                "lock_until": 0,
                "legal_hold": False,
                **(attributes or {}),
                "encryption": encryption,
            },
        )
        fresh = [] if inline is not None else [s.blob_id for s in linked]  # new blob files
        return await self.commit(
            bucket, obj, conditions, fresh, cause="Copy", inline=inline, origin=origin
        )

    async def _recode(
        self,
        source: ObjectVersion,
        sse: Sse | None,
        customer_key: bytes | None,
        stored: bytes | None,
    ) -> tuple[list[Segment], dict[str, Any] | None]:
        """New blobs holding source's segments as `sse` asks, and the copy's `encryption`."""
        written: list[WrittenBlob] = []
        position = 0
        try:
            for segment in source.segments:
                end = position + segment.size - 1
                body = self.read(source, position, end, customer_key, stored)
                blob = await self.write_blob(body, BodyChecks(), limit=MAX_OBJECT_BYTES, sse=sse)
                written.append(blob)
                position += segment.size
        except BaseException:
            await self.discard(w.blob_id for w in written)
            raise
        segments = [Segment(w.blob_id, w.size) for w in written]
        envelopes = [w.envelope for w in written if w.envelope is not None]
        if sse is None or not envelopes:
            return segments, None
        return segments, encryption_json(envelopes)
