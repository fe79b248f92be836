"""Bucket configuration operations: versioning, ACLs, policy, tagging, CORS, lifecycle,
encryption, object lock, public access block and ownership, stored as documents."""

from __future__ import annotations

import functools
import json

from starlette.responses import Response

from lading import configs, errors
from lading.configs import ConfigKind
from lading.http.s3 import xml
from lading.http.s3.common import xml_response
from lading.http.s3.dispatch import Handler, ReqCtx
from lading.iam import acl as acls
from lading.iam import policy_language
from lading.iam.policy import bucket_policy
from lading.metadata.models import Bucket


async def get_bucket_versioning(ctx: ReqCtx) -> Response:
    return xml_response(xml.versioning(ctx.need_bucket().versioning))


async def put_bucket_versioning(ctx: ReqCtx) -> Response:
    tree = xml.parse_config(await ctx.read_body(), "VersioningConfiguration")
    await ctx.services.buckets.set_versioning(ctx.need_bucket(), configs.versioning_status(tree))
    return Response(status_code=200)


def _stored(bucket: Bucket, kind: ConfigKind) -> dict[str, object]:
    raw = bucket.configs.get(kind.name)
    if raw is None:
        raise kind.missing(bucket.name)
    tree: dict[str, object] = json.loads(raw)
    return tree


async def _get(kind: ConfigKind, ctx: ReqCtx) -> Response:
    return xml_response(xml.config_document(kind.root, _stored(ctx.need_bucket(), kind)))


async def _put(kind: ConfigKind, ctx: ReqCtx) -> Response:
    bucket = ctx.need_bucket()
    tree = kind.normalise(xml.parse_config(await ctx.read_body(), kind.root, kind.repeated))
    if kind.name == "object-lock" and not bucket.object_lock and bucket.versioning != "Enabled":
        raise errors.InvalidBucketState(
            "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration"
        )
    if kind.name == "ownership" and tree["Rule"][0]["ObjectOwnership"] == configs.ENFORCED:
        raw_acl = bucket.configs.get("acl")
        stored = json.loads(raw_acl) if raw_acl else None
        if stored and any(g.get("id") != bucket.owner.name for g in stored["grants"]):
            raise errors.InvalidBucketAclWithObjectOwnership()
    await ctx.services.buckets.set_config(bucket, kind.name, json.dumps(tree))
    return Response(status_code=200)


async def _delete(kind: ConfigKind, ctx: ReqCtx) -> Response:
    await ctx.services.buckets.set_config(ctx.need_bucket(), kind.name, None)
    return Response(status_code=204)


def config_handlers() -> dict[str, Handler]:
    """Get/Put/Delete handlers of every document-stored configuration kind."""
    names = {
        "tagging": ("GetBucketTagging", "PutBucketTagging", "DeleteBucketTagging"),
        "cors": ("GetBucketCors", "PutBucketCors", "DeleteBucketCors"),
        "lifecycle": (
            "GetBucketLifecycleConfiguration",
            "PutBucketLifecycleConfiguration",
            "DeleteBucketLifecycle",
        ),
        "encryption": (
            "GetBucketEncryption",
            "PutBucketEncryption",
            "DeleteBucketEncryption",
        ),
        "object-lock": ("GetObjectLockConfiguration", "PutObjectLockConfiguration", None),
        "public-access-block": (
            "GetPublicAccessBlock",
            "PutPublicAccessBlock",
            "DeletePublicAccessBlock",
        ),
        "ownership": (
            "GetBucketOwnershipControls",
            "PutBucketOwnershipControls",
            "DeleteBucketOwnershipControls",
        ),
    }
    table: dict[str, Handler] = {}
    for kind_name, (get, put, delete) in names.items():
        kind = configs.KINDS[kind_name]
        table[get] = functools.partial(_get, kind)
        table[put] = functools.partial(_put, kind)
        if delete is not None:
            table[delete] = functools.partial(_delete, kind)
    return table


# --- policy ------------------------------------------------------------------------------------


async def get_bucket_policy(ctx: ReqCtx) -> Response:
    bucket = ctx.need_bucket()
    text = bucket.configs.get("policy")
    if text is None:
        raise errors.NoSuchBucketPolicy(bucket.name)
    return Response(text, media_type="application/json")


async def put_bucket_policy(ctx: ReqCtx) -> Response:
    bucket = ctx.need_bucket()
    body = await ctx.read_body(policy_language.MAX_POLICY_BYTES)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.MalformedPolicy("Policies must be valid UTF-8 JSON") from exc
    policy = policy_language.parse_policy(text, bucket.name)
    flags = configs.public_access_flags(bucket.configs)
    if flags["BlockPublicPolicy"] and policy.is_public():
        raise errors.AccessDenied("Access Denied: public policies are blocked on this bucket")
    await ctx.services.buckets.set_config(bucket, "policy", text)
    return Response(status_code=204)


async def delete_bucket_policy(ctx: ReqCtx) -> Response:
    await ctx.services.buckets.set_config(ctx.need_bucket(), "policy", None)
    return Response(status_code=204)


async def get_bucket_policy_status(ctx: ReqCtx) -> Response:
    """IsPublic: whether the bucket's policy or its ACL lets everyone (or every signed-in user)
    in. A bucket without a policy answers from its ACL, as radosgw does, not NoSuchBucketPolicy."""
    bucket = ctx.need_bucket()
    text = bucket.configs.get("policy")
    raw_acl = bucket.configs.get("acl")
    public = acls.is_public(json.loads(raw_acl) if raw_acl else None)
    if text is not None:
        public = public or bucket_policy(text, bucket.name).is_public()
    return xml_response(xml.policy_status(public))


# --- ACLs --------------------------------------------------------------------------------------


async def acl_to_store(ctx: ReqCtx, bucket: Bucket, *, body: bool) -> acls.Acl | None:
    """The ACL a request sets (headers or an AccessControlPolicy body), checked.

    A bucket whose ownership controls are BucketOwnerEnforced has ACLs disabled: only
    bucket-owner-full-control is accepted, and nothing is stored.
    """
    found = acls.from_headers(ctx.headers, bucket_owner=bucket.owner.name)
    if "ownership" in bucket.configs and (
        configs.object_ownership(bucket.configs) == configs.ENFORCED
    ):
        canned = ctx.headers.get("x-amz-acl", "").strip()
        if body and found is None:
            raw = await ctx.read_body()
            if raw.strip():
                raise errors.AccessControlListNotSupported()
        if found is not None and canned != configs.BUCKET_OWNER_FULL_CONTROL:
            raise errors.AccessControlListNotSupported()
        return None
    if body:
        raw = await ctx.read_body()
        if raw.strip():
            if found is not None:
                raise errors.InvalidRequest("Specify an ACL either in headers or in the body.")
            found = acls.from_tree(
                xml.parse_config(raw, "AccessControlPolicy", frozenset({"Grant"}))
            )
        elif found is None:
            raise errors.MalformedXML()
    if found is None:
        return None
    found = await check_grantees(ctx, found)
    if acls.is_public(found) and configs.public_access_flags(bucket.configs)["BlockPublicAcls"]:
        raise errors.AccessDenied("Access Denied: public ACLs are blocked on this bucket")
    return found


async def check_grantees(ctx: ReqCtx, acl: acls.Acl) -> acls.Acl:
    """The ACL to store: e-mail grantees resolved to their users (UnresolvableGrantByEmail-
    Address when no user has the address), and InvalidArgument unless every user exists."""
    identity = ctx.services.identity
    emails = {e: (await identity.user_by_email(e)).name for e in sorted(acls.emails_named(acl))}
    if emails:
        acl = acls.resolve_emails(acl, emails)
    for name in acls.users_named(acl):
        if not await identity.user_exists(name):
            raise errors.InvalidArgument(f"Invalid id: {name}")
    return acl


def acl_response(
    owner: str, acl: acls.Acl | None, headers: dict[str, str] | None = None
) -> Response:
    """The AccessControlPolicy of a bucket or object owned by `owner`."""
    body = xml.access_control_policy(owner, acls.effective(acl, owner))
    return xml_response(body, headers=headers)


async def get_bucket_acl(ctx: ReqCtx) -> Response:
    bucket = ctx.need_bucket()
    raw = bucket.configs.get("acl")
    return acl_response(bucket.owner.name, json.loads(raw) if raw else None)


async def put_bucket_acl(ctx: ReqCtx) -> Response:
    bucket = ctx.need_bucket()
    found = await acl_to_store(ctx, bucket, body=True)
    await ctx.services.buckets.set_config(bucket, "acl", json.dumps(found))
    return Response(status_code=200)
