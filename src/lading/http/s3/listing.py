"""Listings: ListObjects (v1), ListObjectsV2, ListObjectVersions, ListMultipartUploads."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable

from starlette.responses import Response

from lading import errors
from lading.http.s3 import xml
from lading.http.s3.common import encoding_type, int_param, xml_response
from lading.http.s3.dispatch import ReqCtx
from lading.metadata.models import Bucket

MAX_KEYS = 1000


def _params(ctx: ReqCtx, max_name: str = "max-keys") -> xml.ListParams:
    return xml.ListParams(
        prefix=ctx.query.get("prefix", ""),
        delimiter=ctx.query.get("delimiter", ""),
        max_keys=int_param(ctx.query, max_name, MAX_KEYS, high=MAX_KEYS),
        encoding_type=encoding_type(ctx.query),
    )


def _owner_names(bucket: Bucket) -> dict[int, str]:
    return {bucket.owner.id: bucket.owner.name}


async def _names_of(ctx: ReqCtx, bucket: Bucket, owner_ids: Iterable[int]) -> dict[int, str]:
    """Owner names for a page: the bucket owner's, plus any other writer's, looked up (cached)."""
    names = _owner_names(bucket)
    for owner_id in set(owner_ids) - names.keys():
        try:
            names[owner_id] = (await ctx.services.identity.user_by_id(owner_id)).name
        except errors.NoSuchUser:
            names[owner_id] = ""
    return names


async def list_objects(ctx: ReqCtx) -> Response:
    bucket = ctx.need_bucket()
    params = _params(ctx)
    marker = ctx.query.get("marker", "")
    page = await ctx.services.buckets.list_objects(
        bucket,
        prefix=params.prefix,
        delimiter=params.delimiter,
        after=marker,
        max_keys=params.max_keys,
    )
    body = xml.list_objects_v1(
        bucket.name,
        params,
        marker,
        page.objects,
        page.prefixes,
        page.truncated,
        page.next_marker,
        _owner_names(bucket),
    )
    return xml_response(body)


def encode_token(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode("utf-8", "surrogatepass")).decode()


def decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode("utf-8", "surrogatepass")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise errors.InvalidArgument("The continuation token provided is incorrect") from None


async def list_objects_v2(ctx: ReqCtx) -> Response:
    bucket = ctx.need_bucket()
    params = _params(ctx)
    token = ctx.query.get("continuation-token")
    start_after = ctx.query.get("start-after")
    after = decode_token(token) if token is not None else (start_after or "")
    page = await ctx.services.buckets.list_objects(
        bucket,
        prefix=params.prefix,
        delimiter=params.delimiter,
        after=after,
        max_keys=params.max_keys,
    )
    fetch_owner = ctx.query.get("fetch-owner", "").lower() == "true"
    body = xml.list_objects_v2(
        bucket.name,
        params,
        start_after=start_after,
        continuation_token=token,
        next_token=encode_token(page.next_marker) if page.truncated else None,
        objects=page.objects,
        prefixes=page.prefixes,
        truncated=page.truncated,
        owner_names=_owner_names(bucket) if fetch_owner else None,
    )
    return xml_response(body)


async def list_object_versions(ctx: ReqCtx) -> Response:
    bucket = ctx.need_bucket()
    params = _params(ctx)
    key_marker = ctx.query.get("key-marker", "")
    version_marker = ctx.query.get("version-id-marker", "")
    if version_marker and not key_marker:
        raise errors.InvalidArgument(
            "A version-id marker cannot be specified without a key marker."
        )
    page = await ctx.services.buckets.list_versions(
        bucket,
        prefix=params.prefix,
        delimiter=params.delimiter,
        key_marker=key_marker,
        version_marker=version_marker,
        max_keys=params.max_keys,
    )
    body = xml.list_versions(
        bucket.name,
        params,
        key_marker=key_marker,
        version_marker=version_marker,
        versions=page.versions,
        prefixes=page.prefixes,
        truncated=page.truncated,
        next_key_marker=page.next_key_marker,
        next_version_marker=page.next_version_marker,
        owner_names=_owner_names(bucket),
    )
    return xml_response(body)


async def list_multipart_uploads(ctx: ReqCtx) -> Response:
    bucket = ctx.need_bucket()
    params = _params(ctx, "max-uploads")
    key_marker = ctx.query.get("key-marker", "")
    upload_marker = ctx.query.get("upload-id-marker", "")
    page = await ctx.services.buckets.list_uploads(
        bucket,
        prefix=params.prefix,
        delimiter=params.delimiter,
        key_marker=key_marker,
        upload_marker=upload_marker if key_marker else "",
        max_uploads=params.max_keys,
    )
    body = xml.list_uploads(
        bucket.name,
        params,
        key_marker=key_marker,
        upload_marker=upload_marker,
        uploads=page.uploads,
        prefixes=page.prefixes,
        truncated=page.truncated,
        next_key_marker=page.next_key_marker,
        next_upload_marker=page.next_upload_marker,
        owner_names=await _names_of(ctx, bucket, (u.owner_id for u in page.uploads)),
    )
    return xml_response(body)
