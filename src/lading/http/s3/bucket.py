"""Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation."""

from __future__ import annotations

from starlette.responses import Response

from lading.http.s3 import xml
from lading.http.s3.common import xml_response
from lading.http.s3.dispatch import ReqCtx


async def list_buckets(ctx: ReqCtx) -> Response:
    user = ctx.principal.user
    assert user is not None, "authorization admits only users"
    found = await ctx.services.buckets.list_buckets(user)
    return xml_response(xml.list_buckets(user, found))


async def create_bucket(ctx: ReqCtx) -> Response:
    user = ctx.principal.user
    assert user is not None and ctx.op.bucket is not None
    location = xml.parse_location_constraint(await ctx.read_body())
    await ctx.services.buckets.create_bucket(ctx.op.bucket, user, location)
    return Response(status_code=200, headers={"location": f"/{ctx.op.bucket}"})


async def head_bucket(ctx: ReqCtx) -> Response:
    bucket = ctx.need_bucket()
    return Response(status_code=200, headers={"x-amz-bucket-region": bucket.region})


async def delete_bucket(ctx: ReqCtx) -> Response:
    await ctx.services.buckets.delete_bucket(ctx.need_bucket())
    return Response(status_code=204)


async def get_bucket_location(ctx: ReqCtx) -> Response:
    return xml_response(xml.location(ctx.need_bucket().region))


async def get_bucket_versioning(ctx: ReqCtx) -> Response:
    return xml_response(xml.versioning(ctx.need_bucket().versioning))
