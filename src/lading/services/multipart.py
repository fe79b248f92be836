"""Multipart uploads: parts are blobs; completion writes a manifest and copies nothing."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from lading import checksums, errors
from lading.concurrency import run_blocking
from lading.encryption import ALGORITHM, SSE_C, Envelope, customer_key_md5
from lading.metadata.hooks import Origin
from lading.metadata.identity import Directory
from lading.metadata.models import Bucket, ObjectVersion, Part, ProjectAccess, Segment, Upload
from lading.metadata.store import MetadataStore, now_us
from lading.services.objects import (
    MAX_OBJECT_BYTES,
    BodyChecks,
    NewObject,
    ObjectService,
    Sse,
    WriteConditions,
    encryption_json,
    new_version_id,
    quote_etag,
    validate_key,
    validate_metadata,
)

MAX_PARTS = 10_000


@dataclass(frozen=True, slots=True)
class CompletedPart:
    """One entry of a CompleteMultipartUpload request."""

    part_number: int
    etag: str
    checksum: str | None = None


class MultipartService:
    """Create, upload parts to, complete, abort and list multipart uploads."""

    def __init__(self, meta: MetadataStore, objects: ObjectService, min_part_size: int) -> None:
        self.meta = meta
        self.objects = objects
        self.min_part_size = min_part_size
        self.directory = Directory(meta)  # project usage, for quotas on parts

    async def create_upload(
        self,
        bucket: Bucket,
        key: str,
        *,
        owner_id: int,
        new: NewObject,
        checksum_algorithm: str = "",
        checksum_type: str = "",
        sse: Sse | None = None,
    ) -> Upload:
        """Start an upload; with `sse` every part is encrypted on its own (see upload_sse)."""
        validate_key(key)
        validate_metadata(new.metadata)
        if sse is not None and sse.kms_key_id is not None:
            self.objects.check_kms_key(sse.kms_key_id)
        if checksum_algorithm:
            checksums.new_checksum(checksum_algorithm)  # validates the name
        algorithm = checksum_algorithm.upper()
        kind = checksum_type.upper() or (
            "FULL_OBJECT" if algorithm == "CRC64NVME" else "COMPOSITE" if algorithm else ""
        )
        if kind not in ("", "COMPOSITE", "FULL_OBJECT"):
            raise errors.InvalidRequest(f"Value for x-amz-checksum-type is invalid: {kind}")
        if kind == "FULL_OBJECT" and algorithm in ("SHA1", "SHA256"):
            raise errors.InvalidRequest(
                f"The FULL_OBJECT checksum type cannot be used with the {algorithm} algorithm."
            )
        upload = Upload(
            upload_id=uuid.uuid4().hex + uuid.uuid4().hex[:8],
            bucket_id=bucket.id,
            key=key,
            created_at=now_us(),
            owner_id=owner_id,
            content_type=new.content_type,
            metadata=new.metadata,
            headers=new.headers,
            checksum_algorithm=algorithm,
            checksum_type=kind,
            storage_class=new.storage_class,
            attributes=self._with_sse(new.attributes, sse),
        )
        await run_blocking(self.meta.create_upload, upload)
        return upload

    @staticmethod
    def _with_sse(attributes: dict[str, Any], sse: Sse | None) -> dict[str, Any]:
        """The upload's attributes, with what its encryption is (never the customer's key)."""
        if sse is None:
            return attributes
        marker = {"mode": sse.mode, "algorithm": ALGORITHM}
        if sse.customer_key is not None:
            marker["customer-key-md5"] = customer_key_md5(sse.customer_key)
        if sse.kms_key_id is not None:
            marker["key-id"] = sse.kms_key_id
        return {**attributes, "encryption": marker}

    @staticmethod
    def upload_sse(upload: Upload, customer_key: bytes | None) -> Sse | None:
        """The encryption of a part of `upload`, given the SSE-C key its request sent.

        An SSE-C upload needs the key it was created with on every part.
        """
        marker = upload.attributes.get("encryption")
        if not marker:
            if customer_key is not None:
                raise errors.InvalidRequest(
                    "The multipart upload initiate did not request encryption; the part "
                    "request must not include encryption parameters."
                )
            return None
        if marker.get("mode") != SSE_C:
            if customer_key is not None:
                raise errors.InvalidRequest(
                    "The encryption parameters are not applicable to this upload."
                )
            return Sse(marker["mode"], kms_key_id=marker.get("key-id"))
        if customer_key is None:
            raise errors.InvalidRequest(
                "The multipart upload initiate requested encryption. Subsequent part requests "
                "must include the appropriate encryption parameters."
            )
        if customer_key_md5(customer_key) != marker.get("customer-key-md5"):
            raise errors.InvalidArgument(
                "The provided encryption parameters did not match the ones used originally."
            )
        return Sse(SSE_C, customer_key)

    async def get_upload(self, bucket: Bucket, key: str, upload_id: str) -> Upload:
        return await run_blocking(self.meta.get_upload, bucket, key, upload_id)

    @staticmethod
    def validate_part_number(part_number: int) -> None:
        if not 1 <= part_number <= MAX_PARTS:
            raise errors.InvalidArgument(
                "Part number must be an integer between 1 and 10000, inclusive"
            )

    async def upload_part(
        self,
        upload: Upload,
        part_number: int,
        body: AsyncIterator[bytes],
        checks: BodyChecks,
        declared_size: int | None = None,
        sse: Sse | None = None,
        project: ProjectAccess | None = None,
    ) -> Part:
        """Store one part (at most 5 GiB); a part of the same number is replaced.

        An encrypted part has an envelope of its own (`sse`, from upload_sse). A part that
        would take the bucket's `project` past its byte quota is refused (QuotaExceeded),
        before its body is read when its size is declared.
        """
        self.validate_part_number(part_number)
        if upload.checksum_algorithm and not checks.algorithm:
            checks.algorithm = upload.checksum_algorithm
        room = project if project is not None and project.quota_bytes is not None else None
        if room is not None and declared_size is not None:
            await run_blocking(self.directory.check_room, room, declared_size)
        written = await self.objects.write_blob(body, checks, declared_size=declared_size, sse=sse)
        if room is not None:
            try:
                await run_blocking(self.directory.check_room, room, written.size)
            except errors.QuotaExceeded:
                await self.objects.discard([written.blob_id])
                raise
        part = Part(
            part_number=part_number,
            size=written.size,
            etag=quote_etag(written.md5.hex()),
            blob_id=written.blob_id,
            last_modified=now_us(),
            checksum=written.checksum if upload.checksum_algorithm else "",
            encryption=written.envelope.to_json() if written.envelope is not None else None,
        )
        try:
            replaced = await run_blocking(self.meta.put_part, upload.upload_id, part)
        except BaseException:
            await self.objects.discard([written.blob_id])
            raise
        await self.objects.discard(replaced)
        return part

    async def list_parts(
        self, upload: Upload, *, after: int = 0, max_parts: int | None = None
    ) -> list[Part]:
        return await run_blocking(
            lambda: self.meta.list_parts(upload.upload_id, after=after, max_parts=max_parts)
        )

    async def complete_upload(
        self,
        bucket: Bucket,
        upload: Upload,
        requested: list[CompletedPart],
        conditions: WriteConditions | None = None,
        checksum: str | None = None,
        origin: Origin | None = None,
    ) -> ObjectVersion:
        """Check the part list against what was uploaded and commit the object manifest.

        `checksum` is the whole object's checksum the client expects, in the upload's
        algorithm (BadDigest when it differs). Completing an upload that is already complete
        answers the object it made, as S3 does for a retried completion.
        """
        requested = self._part_list(requested)
        stored = {p.part_number: p for p in await self.list_parts(upload)}
        chosen: list[Part] = []
        for item in requested:
            part = stored.get(item.part_number)
            if part is None or part.etag.strip('"') != item.etag.strip().strip('"'):
                raise errors.InvalidPart()
            if item.checksum is not None and part.checksum and item.checksum != part.checksum:
                raise errors.InvalidPart()
            chosen.append(part)
        for part in chosen[:-1]:
            if part.size < self.min_part_size:
                raise errors.EntityTooSmall(
                    f"Your proposed upload is smaller than the minimum allowed size: part "
                    f"{part.part_number} has {part.size} bytes, the minimum is "
                    f"{self.min_part_size}."
                )
        if sum(p.size for p in chosen) > MAX_OBJECT_BYTES:
            raise errors.EntityTooLarge()
        md5s = b"".join(bytes.fromhex(p.etag.strip('"')) for p in chosen)
        etag = quote_etag(f"{hashlib.md5(md5s).hexdigest()}-{len(chosen)}")
        attributes = dict(upload.attributes)
        if attributes.get("encryption"):
            if not all(p.encryption for p in chosen):
                raise errors.InvalidPart("A part of this encrypted upload was not encrypted.")
            attributes["encryption"] = encryption_json(
                [Envelope.from_json(p.encryption or {}) for p in chosen]
            )
        obj = ObjectVersion(
            bucket_id=bucket.id,
            key=upload.key,
            version_id=new_version_id(bucket),
            size=sum(p.size for p in chosen),
            etag=etag,
            last_modified=now_us(),
            content_type=upload.content_type,
            segments=tuple(Segment(p.blob_id, p.size) for p in chosen),
            part_sizes=tuple(p.size for p in chosen),
            metadata=upload.metadata,
            headers=upload.headers,
            checksums=self._object_checksum(upload, chosen),
            storage_class=upload.storage_class,
            owner_id=upload.owner_id,
            **attributes,
        )
        if checksum is not None:
            self._check_object_checksum(upload, obj, checksum)
        try:
            return await self.objects.commit(
                bucket,
                obj,
                conditions,
                [],
                upload_id=upload.upload_id,
                cause="CompleteMultipartUpload",
                origin=origin,
            )
        except errors.NoSuchUpload:  # completed by a concurrent request meanwhile
            done = await self.completed_object(bucket, upload.key, requested)
            if done is None:
                raise
            return done

    @staticmethod
    def _part_list(requested: list[CompletedPart]) -> list[CompletedPart]:
        """The part list in ascending order; a number listed twice counts once, its last entry.

        A client that resent a part may list both answers; the part stored is the last one.
        """
        if not requested:
            raise errors.MalformedXML()
        numbers = [p.part_number for p in requested]
        if any(b < a for a, b in zip(numbers, numbers[1:], strict=False)):
            raise errors.InvalidPartOrder()
        return list({p.part_number: p for p in requested}.values())

    @staticmethod
    def _check_object_checksum(upload: Upload, obj: ObjectVersion, expected: str) -> None:
        algorithm = upload.checksum_algorithm
        computed = obj.checksums.get(algorithm) if algorithm else None
        if computed is None:
            return  # nothing to compare with: the parts were uploaded without checksums
        bare = computed.rpartition("-")[0] if upload.checksum_type == "COMPOSITE" else computed
        if expected.strip() not in (computed, bare):
            raise errors.BadDigest(
                f"The {algorithm} you specified did not match the calculated checksum."
            )

    async def completed_object(
        self, bucket: Bucket, key: str, requested: list[CompletedPart]
    ) -> ObjectVersion | None:
        """The current object at key if a completion of exactly these parts made it.

        A client that lost the answer to CompleteMultipartUpload retries it after the upload
        is gone; S3 answers the retry as it answered the completion. The object's ETag, the
        MD5 of its parts' ETags, identifies the parts.
        """
        try:
            parts = self._part_list(requested)
            md5s = b"".join(bytes.fromhex(p.etag.strip().strip('"')) for p in parts)
            current = await self.objects.head_object(bucket, key)
        except (errors.LadingError, ValueError):
            return None
        etag = quote_etag(f"{hashlib.md5(md5s).hexdigest()}-{len(parts)}")
        return current if current.part_sizes is not None and current.etag == etag else None

    @staticmethod
    def _object_checksum(upload: Upload, parts: list[Part]) -> dict[str, Any]:
        algorithm = upload.checksum_algorithm
        if not algorithm or not all(p.checksum for p in parts):
            return {}
        digests = [base64.b64decode(p.checksum) for p in parts]
        if upload.checksum_type == "FULL_OBJECT":
            value = checksums.full_object_checksum(
                algorithm, [(d, p.size) for d, p in zip(digests, parts, strict=True)]
            )
        else:
            value = checksums.composite_checksum(algorithm, digests)
        # each part's checksum too, for GetObjectAttributes
        return {
            algorithm: value,
            "type": upload.checksum_type,
            "parts": [p.checksum for p in parts],
        }

    async def abort_upload(self, upload: Upload) -> None:
        garbage = await run_blocking(self.meta.abort_upload, upload.upload_id)
        await self.objects.discard(garbage)
