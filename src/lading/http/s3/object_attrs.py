"""Per-version attributes that change in place: tags, ACL, retention and legal hold."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from lading import configs, errors
from lading.http.s3 import xml
from lading.http.s3.common import bypass_governance, version_header, xml_response
from lading.http.s3.configs import acl_response, acl_to_store
from lading.http.s3.dispatch import ReqCtx
from lading.iam.policy import lent_write
from lading.metadata.models import ObjectVersion


async def _object(ctx: ReqCtx) -> ObjectVersion:
    try:
        obj = await ctx.services.objects.head_object(
            ctx.need_bucket(), ctx.need_key(), ctx.query.get("versionId")
        )
    except errors.NotFound as exc:
        raise ctx.hide_missing(exc) from None
    await ctx.check_object(obj)
    if obj.is_delete_marker:
        raise errors.MethodNotAllowed(delete_marker=obj.version_id)
    return obj


async def _update(ctx: ReqCtx, values: dict[str, Any], cause: str) -> ObjectVersion:
    if ctx.object_acl_pending:
        await _object(ctx)
    return await ctx.services.objects.update_object(
        ctx.need_bucket(),
        ctx.need_key(),
        ctx.query.get("versionId"),
        lambda _v: values,
        cause,
        origin=ctx.origin,
    )


# --- tags --------------------------------------------------------------------------------------


async def get_object_tagging(ctx: ReqCtx) -> Response:
    obj = await _object(ctx)
    # sorted by key, whichever way they were given (header, document, copy or POST form)
    body = xml.config_document("Tagging", configs.tags_tree(dict(sorted(obj.tags.items()))))
    return xml_response(body, headers=version_header(obj))


async def put_object_tagging(ctx: ReqCtx) -> Response:
    tree = xml.parse_config(await ctx.read_body(), "Tagging", frozenset({"Tag"}))
    tags = configs.tags_from_tree(tree, configs.MAX_OBJECT_TAGS)
    obj = await _update(ctx, {"tags": tags or None}, "ObjectTagging:Put")
    return Response(status_code=200, headers=version_header(obj))


async def delete_object_tagging(ctx: ReqCtx) -> Response:
    obj = await _update(ctx, {"tags": None}, "ObjectTagging:Delete")
    return Response(status_code=204, headers=version_header(obj))


# --- ACL ---------------------------------------------------------------------------------------


async def get_object_acl(ctx: ReqCtx) -> Response:
    obj = await _object(ctx)
    owner = await ctx.services.identity.user_by_id(obj.owner_id)
    return acl_response(owner.name, obj.acl, version_header(obj))


async def put_object_acl(ctx: ReqCtx) -> Response:
    found = await acl_to_store(ctx, ctx.need_bucket(), body=True)
    obj = await _update(ctx, {"acl": found}, "ObjectAcl:Put")
    return Response(status_code=200, headers=version_header(obj))


# --- object lock -------------------------------------------------------------------------------


def _need_lock(ctx: ReqCtx) -> None:
    if not ctx.need_bucket().object_lock:
        raise errors.InvalidRequest("Bucket is missing Object Lock Configuration")


async def get_object_retention(ctx: ReqCtx) -> Response:
    _need_lock(ctx)
    obj = await _object(ctx)
    if not obj.lock_mode:
        raise errors.NoSuchObjectRetention(ctx.need_bucket().name)
    return xml_response(xml.retention(obj.lock_mode, obj.lock_until))


async def put_object_retention(ctx: ReqCtx) -> Response:
    _need_lock(ctx)
    tree = xml.parse_config(await ctx.read_body(), "Retention")
    mode, until = configs.retention_from_tree(tree)
    now = ctx.services.objects.clock()
    if until <= now:
        raise errors.InvalidArgument("The retain until date must be in the future!")
    bypass = bypass_governance(ctx.headers)
    if ctx.object_acl_pending:
        await _object(ctx)

    def changes(current: ObjectVersion) -> dict[str, Any]:
        # retention in force may only grow and keep its mode, unless GOVERNANCE and the
        # bypass header (changing GOVERNANCE to COMPLIANCE alters lock settings too)
        shorter = until < current.lock_until or (
            bool(current.lock_mode) and mode != current.lock_mode
        )
        protected = current.lock_mode == "COMPLIANCE" or not bypass
        if current.lock_until > now and shorter and protected:
            raise errors.ObjectLocked()
        return {"lock_mode": mode, "lock_until": until}

    obj = await ctx.services.objects.update_object(
        ctx.need_bucket(),
        ctx.need_key(),
        ctx.query.get("versionId"),
        changes,
        "ObjectRetention:Put",
        origin=ctx.origin,
    )
    return Response(status_code=200, headers=version_header(obj))


async def get_object_legal_hold(ctx: ReqCtx) -> Response:
    _need_lock(ctx)
    obj = await _object(ctx)
    return xml_response(xml.legal_hold(obj.legal_hold))


async def put_object_legal_hold(ctx: ReqCtx) -> Response:
    _need_lock(ctx)
    tree = xml.parse_config(await ctx.read_body(), "LegalHold")
    obj = await _update(
        ctx, {"legal_hold": configs.legal_hold_from_tree(tree)}, "ObjectLegalHold:Put"
    )
    return Response(status_code=200, headers=version_header(obj))


# --- what a write sets -------------------------------------------------------------------------


def writer_owner_id(ctx: ReqCtx) -> int:
    """Who owns what this request writes: the writer, or the bucket's owner where the bucket's
    ownership controls say so (BucketOwnerEnforced; BucketOwnerPreferred with the
    bucket-owner-full-control ACL) or where a share alone admits the write."""
    bucket = ctx.need_bucket()
    if ctx.access is not None and lent_write(ctx.access):
        return bucket.owner.id
    if "ownership" not in bucket.configs:
        return ctx.user_id
    mode = configs.object_ownership(bucket.configs)
    canned = ctx.headers.get("x-amz-acl", "").strip()
    if mode == configs.ENFORCED or (
        mode == "BucketOwnerPreferred" and canned == configs.BUCKET_OWNER_FULL_CONTROL
    ):
        return bucket.owner.id
    return ctx.user_id


async def write_attributes(ctx: ReqCtx, source: ObjectVersion | None = None) -> dict[str, Any]:
    """Tags, ACL and object lock a PutObject, CopyObject or CreateMultipartUpload asks for."""
    bucket = ctx.need_bucket()
    headers = ctx.headers
    attrs: dict[str, Any] = {}
    directive = headers.get("x-amz-tagging-directive", "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise errors.InvalidArgument("Unknown tagging directive.")
    if source is not None and directive == "COPY":
        if source.tags:
            attrs["tags"] = dict(source.tags)
    elif "x-amz-tagging" in headers:
        attrs["tags"] = configs.tags_from_query(headers["x-amz-tagging"]) or None
    acl = await acl_to_store(ctx, bucket, body=False)
    if acl is not None and acl["grants"]:
        attrs["acl"] = acl
    mode = headers.get("x-amz-object-lock-mode")
    until_text = headers.get("x-amz-object-lock-retain-until-date")
    hold = headers.get("x-amz-object-lock-legal-hold")
    if (mode or until_text or hold) and not bucket.object_lock:
        raise errors.InvalidRequest("Bucket is missing ObjectLockConfiguration")
    if bool(mode) != bool(until_text):
        raise errors.InvalidArgument(
            "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied"
        )
    now = ctx.services.objects.clock()
    if mode and until_text:
        if mode not in configs.LOCK_MODES:
            raise errors.InvalidArgument("Unknown wormMode directive.")
        until = configs.parse_time(until_text)
        if until <= now:
            raise errors.InvalidArgument("The retain until date must be in the future!")
        attrs["lock_mode"], attrs["lock_until"] = mode, until
    elif bucket.object_lock:
        default = configs.default_retention(json.loads(bucket.configs["object-lock"]), now)
        if default is not None:
            attrs["lock_mode"], attrs["lock_until"] = default
    if hold is not None:
        if hold not in ("ON", "OFF"):
            raise errors.InvalidArgument("Legal Hold must be either of 'ON' or 'OFF'")
        attrs["legal_hold"] = hold == "ON"
    return attrs
