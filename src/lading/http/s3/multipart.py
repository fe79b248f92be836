"""Multipart operations: Create, UploadPart, UploadPartCopy, Complete, Abort, ListParts."""

from __future__ import annotations

from starlette.responses import Response

from lading import checksums, errors
from lading.http.s3 import sse, xml
from lading.http.s3.common import (
    body_checks,
    checksum_headers,
    int_param,
    new_object,
    version_header,
    write_conditions,
    xml_response,
)
from lading.http.s3.dispatch import ReqCtx
from lading.http.s3.object_attrs import write_attributes, writer_owner_id
from lading.http.s3.objects import source_customer_key, source_object
from lading.metadata.models import ObjectVersion, Upload
from lading.services.multipart import CompletedPart
from lading.services.objects import BodyChecks


async def _upload(ctx: ReqCtx) -> Upload:
    return await ctx.services.multipart.get_upload(
        ctx.need_bucket(), ctx.need_key(), ctx.query.get("uploadId", "")
    )


def _part_number(ctx: ReqCtx) -> int:
    raw = ctx.query.get("partNumber", "")
    if not raw.isdigit():
        raise errors.InvalidArgument(
            "Part number must be an integer between 1 and 10000, inclusive"
        )
    number = int(raw)
    ctx.services.multipart.validate_part_number(number)
    return number


async def create_multipart_upload(ctx: ReqCtx) -> Response:
    bucket, key = ctx.need_bucket(), ctx.need_key()
    new = new_object(ctx.headers)
    new.attributes = await write_attributes(ctx)
    upload = await ctx.services.multipart.create_upload(
        bucket,
        key,
        owner_id=writer_owner_id(ctx),
        new=new,
        checksum_algorithm=ctx.headers.get("x-amz-checksum-algorithm", ""),
        checksum_type=ctx.headers.get("x-amz-checksum-type", ""),
        sse=sse.requested(ctx.headers, bucket),
    )
    headers = sse.response_headers(upload.attributes.get("encryption"))
    if upload.checksum_algorithm:
        headers["x-amz-checksum-algorithm"] = upload.checksum_algorithm
        headers["x-amz-checksum-type"] = upload.checksum_type
    return xml_response(xml.initiate_upload(bucket.name, key, upload.upload_id), headers=headers)


async def upload_part(ctx: ReqCtx) -> Response:
    number = _part_number(ctx)
    upload = await _upload(ctx)
    checks = body_checks(ctx.headers, ctx.trailer)
    encrypt = ctx.services.multipart.upload_sse(upload, sse.customer_key(ctx.headers))
    part = await ctx.services.multipart.upload_part(
        upload,
        number,
        ctx.body(),
        checks,
        declared_size=ctx.declared_size,
        sse=encrypt,
        project=ctx.need_bucket().project,
    )
    headers = {"etag": part.etag, **sse.response_headers(upload.attributes.get("encryption"))}
    if part.checksum:
        headers.update(checksum_headers({upload.checksum_algorithm: part.checksum}))
    return Response(status_code=200, headers=headers)


def _copy_range(header: str | None, size: int) -> tuple[int, int]:
    if header is None:
        return 0, size - 1
    unit, _, spec = header.partition("=")
    first, dash, last = spec.partition("-")
    if unit != "bytes" or not dash or not first.isdigit() or not last.isdigit():
        raise errors.InvalidArgument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where "
            "first and last are the zero-based offsets of the first and last bytes to copy"
        )
    start, end = int(first), int(last)
    if start > end or end >= size:
        raise errors.InvalidRange(size)
    return start, end


async def upload_part_copy(ctx: ReqCtx) -> Response:
    number = _part_number(ctx)
    upload = await _upload(ctx)
    source, stored = await source_object(ctx)
    source_key = source_customer_key(ctx, source)
    encrypt = ctx.services.multipart.upload_sse(upload, sse.customer_key(ctx.headers))
    start, end = _copy_range(ctx.headers.get("x-amz-copy-source-range"), source.size)
    body = ctx.services.objects.read(source, start, end, source_key, stored)
    part = await ctx.services.multipart.upload_part(
        upload,
        number,
        body,
        BodyChecks(),
        declared_size=end - start + 1,
        sse=encrypt,
        project=ctx.need_bucket().project,
    )
    headers = sse.response_headers(upload.attributes.get("encryption"))
    return xml_response(xml.copy_part_result(part, upload.checksum_algorithm), headers=headers)


def _object_checksum(ctx: ReqCtx, upload: Upload) -> str | None:
    """The x-amz-checksum-<algorithm> a CompleteMultipartUpload expects of the object."""
    for algorithm in checksums.ALGORITHMS:
        value = ctx.headers.get(f"x-amz-checksum-{algorithm.lower()}")
        if value is None:
            continue
        if upload.checksum_algorithm and algorithm != upload.checksum_algorithm:
            raise errors.InvalidRequest(
                f"The upload was created using the {upload.checksum_algorithm} checksum "
                f"algorithm; the complete request specified {algorithm}."
            )
        return value
    return None


async def _completed_before(ctx: ReqCtx) -> ObjectVersion | None:
    try:
        listed = xml.parse_complete_upload(await ctx.read_body())
    except errors.LadingError:
        return None
    parts = [CompletedPart(number, etag) for number, etag, _ in listed]
    return await ctx.services.multipart.completed_object(ctx.need_bucket(), ctx.need_key(), parts)


async def complete_multipart_upload(ctx: ReqCtx) -> Response:
    bucket, key = ctx.need_bucket(), ctx.need_key()
    try:
        upload = await _upload(ctx)
    except errors.NoSuchUpload:
        # a retried completion of an upload that is complete already gets the same answer
        done = await _completed_before(ctx)
        if done is None:
            raise
        body = xml.complete_upload(ctx.location(key), bucket.name, key, done)
        return xml_response(body, headers=version_header(done))
    requested = [
        CompletedPart(number, etag, found.get(upload.checksum_algorithm))
        for number, etag, found in xml.parse_complete_upload(await ctx.read_body())
    ]
    obj = await ctx.services.multipart.complete_upload(
        bucket,
        upload,
        requested,
        write_conditions(ctx.headers),
        checksum=_object_checksum(ctx, upload),
        origin=ctx.origin,
    )
    body = xml.complete_upload(ctx.location(upload.key), bucket.name, upload.key, obj)
    headers = {**version_header(obj), **sse.response_headers(obj.encryption)}
    return xml_response(body, headers=headers)


async def abort_multipart_upload(ctx: ReqCtx) -> Response:
    await ctx.services.multipart.abort_upload(await _upload(ctx))
    return Response(status_code=204)


async def list_parts(ctx: ReqCtx) -> Response:
    upload = await _upload(ctx)
    marker = int_param(ctx.query, "part-number-marker", 0)
    max_parts = int_param(ctx.query, "max-parts", 1000, high=1000)
    found = await ctx.services.multipart.list_parts(upload, after=marker, max_parts=max_parts + 1)
    truncated = len(found) > max_parts
    bucket = ctx.need_bucket()
    try:
        owner = (await ctx.services.identity.user_by_id(upload.owner_id)).name
    except errors.NoSuchUser:
        owner = ""
    body = xml.list_parts(
        bucket.name,
        upload,
        owner,
        found[:max_parts],
        marker=marker,
        max_parts=max_parts,
        truncated=truncated,
    )
    return xml_response(body)
