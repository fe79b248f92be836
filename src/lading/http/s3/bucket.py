"""Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation."""

from __future__ import annotations

import json

from starlette.responses import Response

from lading import configs, errors
from lading.http.s3 import xml
from lading.http.s3.common import int_param, xml_response
from lading.http.s3.configs import check_grantees
from lading.http.s3.dispatch import ReqCtx
from lading.http.s3.listing import decode_token, encode_token
from lading.iam import acl as acls
from lading.metadata.models import Bucket

MAX_BUCKETS = 10_000
# CreateBucket: the project the new bucket belongs to (default: the creator's personal one)
PROJECT_HEADER = "x-lading-project"


async def list_buckets(ctx: ReqCtx) -> Response:
    """ListBuckets, paginated when max-buckets is given (prefix and bucket-region filter)."""
    user = ctx.principal.user
    assert user is not None, "authorization admits only users"
    prefix = ctx.query.get("prefix")
    token = ctx.query.get("continuation-token")
    limit = None
    if ctx.query.get("max-buckets"):
        limit = int_param(ctx.query, "max-buckets", MAX_BUCKETS, low=1)
        if limit > MAX_BUCKETS:
            raise errors.InvalidArgument("max-buckets must be between 1 and 10000")
    region = ctx.query.get("bucket-region")
    found: list[Bucket] = []
    if region in (None, "", ctx.settings.region):
        found = await ctx.services.buckets.list_buckets(
            user,
            prefix=prefix or "",
            after=decode_token(token) if token else "",
            limit=limit + 1 if limit is not None else None,
        )
    next_token = None
    if limit is not None and len(found) > limit:
        found = found[:limit]
        next_token = encode_token(found[-1].name)
    body = xml.list_buckets(user, found, prefix=prefix, continuation_token=next_token)
    return xml_response(body)


async def create_bucket(ctx: ReqCtx) -> Response:
    user = ctx.principal.user
    assert user is not None and ctx.op.bucket is not None
    location = xml.parse_location_constraint(await ctx.read_body())
    lock = ctx.headers.get("x-amz-bucket-object-lock-enabled", "").strip().lower() == "true"
    acl = acls.from_headers(ctx.headers, bucket_owner=user.name)
    if acl is not None:
        acl = await check_grantees(ctx, acl)
    ownership = ctx.headers.get("x-amz-object-ownership")
    if ownership is not None and ownership.strip() not in configs.OWNERSHIPS:
        raise errors.InvalidArgument(f"Invalid x-amz-object-ownership header: {ownership!r}")
    project = ctx.headers.get(PROJECT_HEADER)
    project_id = None
    if project is not None:
        now = ctx.access.now_us if ctx.access is not None else 0
        project_id = await ctx.services.directory.project_for_new_bucket(user, project, now)
    bucket = await ctx.services.buckets.create_bucket(
        ctx.op.bucket,
        user,
        location,
        object_lock=lock,
        acl=json.dumps(acl) if acl is not None and acl["grants"] else None,
        project_id=project_id,
    )
    if ownership is not None:
        tree = {"Rule": [{"ObjectOwnership": ownership.strip()}]}
        await ctx.services.buckets.set_config(bucket, "ownership", json.dumps(tree))
    return Response(status_code=200, headers={"location": f"/{ctx.op.bucket}"})


async def head_bucket(ctx: ReqCtx) -> Response:
    bucket = ctx.need_bucket()
    return Response(status_code=200, headers={"x-amz-bucket-region": bucket.region})


async def delete_bucket(ctx: ReqCtx) -> Response:
    await ctx.services.buckets.delete_bucket(ctx.need_bucket())
    return Response(status_code=204)


async def get_bucket_location(ctx: ReqCtx) -> Response:
    return xml_response(xml.location(ctx.need_bucket().region))
