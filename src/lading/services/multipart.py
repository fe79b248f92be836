"""Multipart uploads: parts are blobs; completion writes a manifest and copies nothing."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from lading import checksums, errors
from lading.concurrency import run_blocking
from lading.metadata.models import NULL_VERSION, Bucket, ObjectVersion, Part, Segment, Upload
from lading.metadata.store import MetadataStore, now_us
from lading.services.objects import (
    BodyChecks,
    NewObject,
    ObjectService,
    WriteConditions,
    quote_etag,
    validate_key,
    validate_metadata,
)

MAX_PARTS = 10_000
MAX_PART_BYTES = 5 * 1024**3


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

    async def create_upload(
        self,
        bucket: Bucket,
        key: str,
        *,
        owner_id: int,
        new: NewObject,
        checksum_algorithm: str = "",
        checksum_type: str = "",
    ) -> Upload:
        validate_key(key)
        validate_metadata(new.metadata)
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
        )
        await run_blocking(self.meta.create_upload, upload)
        return upload

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
    ) -> Part:
        """Store one part; a part of the same number is replaced."""
        self.validate_part_number(part_number)
        if upload.checksum_algorithm and not checks.algorithm:
            checks.algorithm = upload.checksum_algorithm
        written = await self.objects.write_blob(body, checks)
        if written.size > MAX_PART_BYTES:
            await self.objects.discard([written.blob_id])
            raise errors.EntityTooLarge()
        part = Part(
            part_number=part_number,
            size=written.size,
            etag=quote_etag(written.md5.hex()),
            blob_id=written.blob_id,
            last_modified=now_us(),
            checksum=written.checksum if upload.checksum_algorithm else "",
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
        conditions: WriteConditions = WriteConditions(),
    ) -> ObjectVersion:
        """Check the part list against what was uploaded and commit the object manifest."""
        if not requested:
            raise errors.MalformedXML()
        numbers = [p.part_number for p in requested]
        if any(b <= a for a, b in zip(numbers, numbers[1:], strict=False)):
            raise errors.InvalidPartOrder()
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
        md5s = b"".join(bytes.fromhex(p.etag.strip('"')) for p in chosen)
        etag = quote_etag(f"{hashlib.md5(md5s).hexdigest()}-{len(chosen)}")
        obj = ObjectVersion(
            bucket_id=bucket.id,
            key=upload.key,
            version_id=NULL_VERSION,
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
        )
        return await self.objects.commit(bucket, obj, conditions, [], upload_id=upload.upload_id)

    @staticmethod
    def _object_checksum(upload: Upload, parts: list[Part]) -> dict[str, str]:
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
        return {algorithm: value, "type": upload.checksum_type}

    async def abort_upload(self, upload: Upload) -> None:
        garbage = await run_blocking(self.meta.abort_upload, upload.upload_id)
        await self.objects.discard(garbage)
