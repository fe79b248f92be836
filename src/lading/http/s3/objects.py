"""Object operations: GetObject, HeadObject, PutObject, DeleteObject(s), CopyObject."""

from __future__ import annotations

from starlette.responses import Response, StreamingResponse

from lading import errors, lifecycle
from lading.http.s3 import sse, xml
from lading.http.s3.common import (
    RESPONSE_OVERRIDES,
    SMALL_OBJECT,
    body_checks,
    bypass_governance,
    checksum_headers,
    delete_conditions,
    int_param,
    new_object,
    object_headers,
    parse_range,
    read_conditions,
    version_header,
    write_conditions,
    xml_response,
)
from lading.http.s3.dispatch import ReqCtx, copy_source
from lading.http.s3.errors import lookup
from lading.http.s3.object_attrs import write_attributes, writer_owner_id
from lading.metadata.models import NULL_VERSION, Bucket, ObjectVersion
from lading.services.objects import DeleteConditions, Deleted, NewObject


def _part_range(obj: ObjectVersion, part_number: int) -> tuple[int, int]:
    sizes = obj.part_sizes or (obj.size,)  # a plain object is one part
    if not 1 <= part_number <= len(sizes):
        raise errors.InvalidPart("The requested partnumber is not satisfiable")
    start = sum(sizes[: part_number - 1])
    return start, start + sizes[part_number - 1] - 1


async def get_object(ctx: ReqCtx) -> Response:
    """GetObject and HeadObject: conditions, ranges, part numbers and header overrides."""
    bucket, key = ctx.need_bucket(), ctx.need_key()
    inline = SMALL_OBJECT if ctx.request.method == "GET" else None
    try:
        obj, data = await ctx.services.objects.open_object(
            bucket, key, ctx.query.get("versionId"), inline_limit=inline
        )
    except errors.NotFound as exc:
        raise ctx.hide_missing(exc) from None
    await ctx.check_object(obj)
    if obj.is_delete_marker:  # asked for by version id
        raise errors.MethodNotAllowed(delete_marker=obj.version_id)
    sse.refuse_on_read(ctx.headers)
    part_param = ctx.query.get("partNumber")
    span: tuple[int, int] | None
    if part_param is not None:  # a part that does not exist is InvalidPart before any key check
        if not part_param.isdigit():
            raise errors.InvalidArgument("Part number must be an integer between 1 and 10000")
        if "range" in ctx.headers:
            raise errors.InvalidRequest(
                "Cannot specify both Range header and partNumber query parameter"
            )
        span = _part_range(obj, int(part_param))
    customer_key = sse.customer_key(ctx.headers)
    ctx.services.objects.check_readable(obj, customer_key)
    read_conditions(ctx.headers).check(obj)
    if part_param is None:
        span = parse_range(ctx.headers.get("range"), obj.size)
    whole = span is None
    mode = ctx.headers.get("x-amz-checksum-mode", "").upper() == "ENABLED"
    headers = object_headers(obj, with_checksums=mode and whole, versioned=bool(bucket.versioning))
    headers.update(sse.response_headers(obj.encryption))
    headers.update(expiration_header(bucket, obj))
    if part_param is not None:
        headers["x-amz-mp-parts-count"] = str(len(obj.part_sizes or (obj.size,)))
        headers.update(_part_checksum(obj, int(part_param)))
    for param, header in RESPONSE_OVERRIDES.items():
        if param in ctx.query:
            headers[header] = ctx.query[param]
    status = 200
    start, end = 0, obj.size - 1
    if span is not None:
        start, end = span
        status = 206
        headers["content-range"] = f"bytes {start}-{end}/{obj.size}"
    length = end - start + 1 if obj.size else 0
    headers["content-length"] = str(length)
    if ctx.request.method == "HEAD" or length == 0:
        return Response(status_code=status, headers=headers)
    if data is not None and not obj.encryption:
        return Response(data[start : end + 1], status, headers)
    body = ctx.services.objects.read(obj, start, end, customer_key, stored=data)
    return StreamingResponse(body, status, headers)


OBJECT_ATTRIBUTES = frozenset({"ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"})


async def get_object_attributes(ctx: ReqCtx) -> Response:
    """GetObjectAttributes: what HEAD tells, plus the object's parts, without its bytes."""
    bucket, key = ctx.need_bucket(), ctx.need_key()
    wanted = frozenset(
        name.strip() for name in ctx.headers.get("x-amz-object-attributes", "").split(",")
    ) - {""}
    if not wanted:
        raise errors.InvalidArgument("Specify at least one valid x-amz-object-attributes value.")
    unknown = sorted(wanted - OBJECT_ATTRIBUTES)
    if unknown:
        raise errors.InvalidArgument(f"Invalid attribute name specified: {unknown[0]}")
    max_parts = int_param(ctx.headers, "x-amz-max-parts", 1000, high=1000)
    marker = int_param(ctx.headers, "x-amz-part-number-marker", 0)
    try:
        obj = await ctx.services.objects.head_object(bucket, key, ctx.query.get("versionId"))
    except errors.NotFound as exc:
        raise ctx.hide_missing(exc) from None
    await ctx.check_object(obj)
    if obj.is_delete_marker:
        raise errors.MethodNotAllowed(delete_marker=obj.version_id)
    ctx.services.objects.check_readable(obj, sse.customer_key(ctx.headers))
    read_conditions(ctx.headers).check(obj)
    headers = {"last-modified": xml.http_time(obj.last_modified)}
    if bucket.versioning or obj.version_id != NULL_VERSION:
        headers["x-amz-version-id"] = obj.version_id
    body = xml.object_attributes(obj, wanted, marker=marker, max_parts=max_parts)
    return xml_response(body, headers=headers)


def _part_checksum(obj: ObjectVersion, part_number: int) -> dict[str, str]:
    """The checksum headers of one part of a multipart object (a partNumber GET answers the
    part's own checksum, not the object's)."""
    sums = obj.checksums.get("parts")
    if not sums or part_number > len(sums) or not sums[part_number - 1]:
        return {}
    algorithm = next(a for a in obj.checksums if a not in ("type", "parts"))
    out = {f"x-amz-checksum-{algorithm.lower()}": sums[part_number - 1]}
    if obj.checksums.get("type"):
        out["x-amz-checksum-type"] = obj.checksums["type"]
    return out


def expiration_header(bucket: Bucket, obj: ObjectVersion) -> dict[str, str]:
    """x-amz-expiration: when the bucket's lifecycle rules will expire this current object."""
    document = bucket.configs.get("lifecycle")
    if document is None or not obj.is_latest:
        return {}
    found = lifecycle.expiration_header(
        lifecycle.rules_from_document(document), obj.key, obj.size, obj.tags, obj.last_modified
    )
    return {"x-amz-expiration": found} if found else {}


async def put_object(ctx: ReqCtx) -> Response:
    bucket, key = ctx.need_bucket(), ctx.need_key()
    checks = body_checks(ctx.headers, ctx.trailer)
    new = new_object(ctx.headers)
    new.attributes = await write_attributes(ctx)
    obj = await ctx.services.objects.put_object(
        bucket,
        key,
        ctx.body(),
        owner_id=writer_owner_id(ctx),
        new=new,
        checks=checks,
        conditions=write_conditions(ctx.headers),
        declared_size=ctx.declared_size,
        sse=sse.requested(ctx.headers, bucket),
        origin=ctx.origin,
    )
    headers = {
        "etag": obj.etag,
        **checksum_headers(obj.checksums),
        **version_header(obj),
        **expiration_header(bucket, obj),
        **sse.response_headers(obj.encryption),
    }
    return Response(status_code=200, headers=headers)


def _deleted_headers(deleted: Deleted) -> dict[str, str]:
    headers = {}
    if deleted.version_id is not None:
        headers["x-amz-version-id"] = deleted.version_id
    if deleted.delete_marker:
        headers["x-amz-delete-marker"] = "true"
    return headers


async def delete_object(ctx: ReqCtx) -> Response:
    deleted = await ctx.services.objects.delete_object(
        ctx.need_bucket(),
        ctx.need_key(),
        ctx.query.get("versionId"),
        delete_conditions(ctx.headers),
        owner_id=ctx.user_id,
        bypass_governance=bypass_governance(ctx.headers),
        origin=ctx.origin,
    )
    return Response(status_code=204, headers=_deleted_headers(deleted))


async def delete_objects(ctx: ReqCtx) -> Response:
    bucket = ctx.need_bucket()
    entries, quiet = xml.parse_delete(await ctx.read_body())
    outcomes = []
    for entry in entries:
        try:
            ctx.authorize_key(entry.key, "DeleteObject", entry.version_id, entry.etag)
            conditions = DeleteConditions(entry.etag, entry.last_modified, entry.size)
            deleted = await ctx.services.objects.delete_object(
                bucket,
                entry.key,
                entry.version_id,
                conditions,
                owner_id=ctx.user_id,
                bypass_governance=bypass_governance(ctx.headers),
                origin=ctx.origin,
            )
            marker_id = deleted.version_id if deleted.delete_marker else None
            ctx.seen.batch_deleted.append((entry.key, marker_id or entry.version_id or ""))
            outcomes.append(
                xml.DeleteOutcome(
                    entry.key,
                    entry.version_id,
                    delete_marker=deleted.delete_marker,
                    delete_marker_version_id=marker_id,
                )
            )
        except errors.LadingError as exc:
            outcomes.append(
                xml.DeleteOutcome(
                    entry.key,
                    entry.version_id,
                    error_code=lookup(exc).code,
                    error_message=exc.message,
                )
            )
    return xml_response(xml.delete_result(outcomes, quiet))


def _copy_directive(ctx: ReqCtx, source: ObjectVersion) -> NewObject | None:
    directive = ctx.headers.get("x-amz-metadata-directive", "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise errors.InvalidArgument("Unknown metadata directive.")
    if directive == "REPLACE":
        return new_object(ctx.headers)
    storage_class = ctx.headers.get("x-amz-storage-class")
    if storage_class and storage_class != source.storage_class:
        return NewObject(source.content_type, source.metadata, source.headers, storage_class)
    return None


async def source_object(ctx: ReqCtx) -> tuple[ObjectVersion, bytes | None]:
    """The object x-amz-copy-source names, with the x-amz-copy-source-if-* conditions checked,
    and its bytes as stored when they are an inline blob (an overwrite deletes those at once).
    """
    assert ctx.source_bucket is not None, "dispatch resolves the copy source bucket"
    _, key, version = copy_source(ctx.headers)
    source, stored = await ctx.services.objects.open_object(
        ctx.source_bucket, key, version, inline_limit=0
    )
    await ctx.check_object(source, source=True)
    if source.is_delete_marker:
        raise errors.InvalidRequest("The source of a copy request may not be a delete marker.")
    ctx.seen.copied_from = (ctx.source_bucket, key, source.version_id, source.size)
    read_conditions(ctx.headers, "x-amz-copy-source-if-").check(source, copy_source=True)
    return source, stored


def source_customer_key(ctx: ReqCtx, source: ObjectVersion) -> bytes | None:
    """The copy source's SSE-C key (x-amz-copy-source-server-side-encryption-customer-*)."""
    key = sse.customer_key(ctx.headers, sse.COPY_SOURCE_CUSTOMER)
    ctx.services.objects.check_readable(source, key)
    return key


async def copy_object(ctx: ReqCtx) -> Response:
    source, stored = await source_object(ctx)
    bucket = ctx.need_bucket()
    obj = await ctx.services.objects.copy_object(
        source,
        bucket,
        ctx.need_key(),
        stored=stored,
        owner_id=writer_owner_id(ctx),
        new=_copy_directive(ctx, source),
        attributes=await write_attributes(ctx, source),
        conditions=write_conditions(ctx.headers),
        sse=sse.requested(ctx.headers, bucket),
        source_customer_key=source_customer_key(ctx, source),
        origin=ctx.origin,
    )
    headers = version_header(obj)
    headers.update(sse.response_headers(obj.encryption))
    if source.version_id != NULL_VERSION:
        headers["x-amz-copy-source-version-id"] = source.version_id
    return xml_response(xml.copy_result(obj), headers=headers)
