"""Who may do what: every action class for every kind of user, with real boto3 clients.

The bucket belongs to `owner` and to project P, where `owner` is admin and `writer` and
`reader` have those roles. `grantee` has a user share "rw" on shared/, `member` belongs to a
group with a share "r" on shared/, `other` is a user with no rights but what the bucket
policy (policy/p.txt) and an object ACL (acl/a.txt) give it, `anonymous` signs nothing. The
bucket policy also denies everyone shared/denied.txt: the explicit Deny comes first, before
ownership, project roles, shares, presigned URLs and share links. Each row is one test: the
whole row of allow/deny verdicts is compared at once, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from lading.client import APIError, LinksClient, SharesClient
from lading.testing.server import RunningServer
from tests.conftest import new_bucket_name
from tests.integration.access.conftest import Actor, add_actor, anonymous_actor, root_api

SHARED, PRIVATE = "shared/a.txt", "private/p.txt"
DENIED, BY_POLICY, BY_ACL = "shared/denied.txt", "policy/p.txt", "acl/a.txt"
ROLES = ("owner", "writer", "reader", "grantee", "member", "other")


@dataclass
class World:
    server: RunningServer
    bucket: str
    actors: dict[str, Actor]
    link_url: str
    project: str


@pytest.fixture(scope="module")
def world(deployment: RunningServer) -> World:
    server = deployment
    actors = {role: add_actor(server, role) for role in ROLES}
    actors["anonymous"] = anonymous_actor(server)
    owner, bucket = actors["owner"], new_bucket_name()
    group, project = f"g-{uuid.uuid4().hex[:8]}", f"p-{uuid.uuid4().hex[:8]}"
    with root_api(server) as root:
        root.request("POST", "/groups", json={"name": group})
        root.request("PUT", f"/groups/{group}/members/{actors['member'].name}")
        root.request("POST", "/projects", json={"name": project, "admin": owner.name})
        for role in ("writer", "reader"):
            root.request(
                "PUT", f"/projects/{project}/members/{actors[role].name}", json={"role": role}
            )
    with owner.api(server) as api:
        api.request("POST", f"/projects/{project}/buckets", json={"name": bucket})
    for key in (SHARED, PRIVATE, DENIED, BY_POLICY):
        owner.s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    other = actors["other"].name
    owner.s3.put_object(Bucket=bucket, Key=BY_ACL, Body=BY_ACL.encode(), GrantRead=f'id="{other}"')
    statements = [
        {
            "Sid": "NobodyReadsThis",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/{DENIED}",
        },
        {
            "Sid": "OtherReadsPolicy",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::lading:user/{other}"},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/policy/*",
        },
    ]
    owner.s3.put_bucket_policy(
        Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements})
    )
    with owner.api(server, SharesClient) as shares:
        shares.create_share(
            bucket,
            principal_type="user",
            principal=actors["grantee"].name,
            prefix="shared/",
            permissions="rw",
        )
        shares.create_share(
            bucket, principal_type="group", principal=group, prefix="shared/", permissions="r"
        )
    with owner.api(server, LinksClient) as links:
        link_url = links.create_link(bucket, prefix="shared/")["url"]
    return World(server, bucket, actors, link_url, project)


# --- the action classes: each returns normally when allowed, raises when refused ------------


def list_buckets(w: World, a: Actor) -> None:
    a.s3.list_buckets()


def create_personal_bucket(w: World, a: Actor) -> None:
    name = new_bucket_name()
    a.s3.create_bucket(Bucket=name)
    a.s3.delete_bucket(Bucket=name)


def create_project_bucket(w: World, a: Actor) -> None:
    def name_the_project(request: Any, **_: Any) -> None:
        request.headers["x-lading-project"] = w.project

    name = new_bucket_name()
    a.s3.meta.events.register("before-sign.s3.CreateBucket", name_the_project)
    try:
        a.s3.create_bucket(Bucket=name)
    finally:
        a.s3.meta.events.unregister("before-sign.s3.CreateBucket", name_the_project)
    w.actors["owner"].s3.delete_bucket(Bucket=name)


def delete_bucket(w: World, a: Actor) -> None:
    a.s3.delete_bucket(Bucket=w.bucket)  # BucketNotEmpty counts as allowed


def put_bucket_acl(w: World, a: Actor) -> None:
    a.s3.put_bucket_acl(Bucket=w.bucket, ACL="private")


def head_bucket(w: World, a: Actor) -> None:
    a.s3.head_bucket(Bucket=w.bucket)


def list_shared_prefix(w: World, a: Actor) -> None:
    keys = [o["Key"] for o in a.s3.list_objects_v2(Bucket=w.bucket, Prefix="shared/")["Contents"]]
    assert SHARED in keys


def list_whole_bucket(w: World, a: Actor) -> None:
    a.s3.list_objects_v2(Bucket=w.bucket)


def get_shared(w: World, a: Actor) -> None:
    assert a.s3.get_object(Bucket=w.bucket, Key=SHARED)["Body"].read() == SHARED.encode()


def head_shared(w: World, a: Actor) -> None:
    a.s3.head_object(Bucket=w.bucket, Key=SHARED)


def get_private(w: World, a: Actor) -> None:
    a.s3.get_object(Bucket=w.bucket, Key=PRIVATE)["Body"].read()


def get_denied(w: World, a: Actor) -> None:
    a.s3.get_object(Bucket=w.bucket, Key=DENIED)["Body"].read()


def get_by_policy(w: World, a: Actor) -> None:
    assert a.s3.get_object(Bucket=w.bucket, Key=BY_POLICY)["Body"].read() == BY_POLICY.encode()


def get_by_acl(w: World, a: Actor) -> None:
    assert a.s3.get_object(Bucket=w.bucket, Key=BY_ACL)["Body"].read() == BY_ACL.encode()


def presigned(w: World, a: Actor, method: str, key: str) -> httpx.Response:
    operation = {"GET": "get_object", "PUT": "put_object"}[method]
    url = a.s3.generate_presigned_url(operation, Params={"Bucket": w.bucket, "Key": key})
    return httpx.request(method, url, content=b"x" if method == "PUT" else None)


def presigned_get_shared(w: World, a: Actor) -> None:
    response = presigned(w, a, "GET", SHARED)
    if response.status_code == 403:
        raise PermissionError(response.text)
    assert response.status_code == 200 and response.content == SHARED.encode(), response.text


def presigned_get_denied(w: World, a: Actor) -> None:
    response = presigned(w, a, "GET", DENIED)
    if response.status_code == 403:
        raise PermissionError(response.text)
    assert response.status_code == 200, response.text


def presigned_put_shared(w: World, a: Actor) -> None:
    response = presigned(w, a, "PUT", f"shared/presigned-{a.name}")
    if response.status_code == 403:
        raise PermissionError(response.text)
    assert response.status_code == 200, response.text


def put_shared(w: World, a: Actor) -> None:
    a.s3.put_object(Bucket=w.bucket, Key=f"shared/put-{a.name}", Body=b"x")


def put_private(w: World, a: Actor) -> None:
    a.s3.put_object(Bucket=w.bucket, Key=f"private/put-{a.name}", Body=b"x")


def copy_into_shared(w: World, a: Actor) -> None:
    a.s3.copy_object(
        Bucket=w.bucket, Key=f"shared/copy-{a.name}", CopySource={"Bucket": w.bucket, "Key": SHARED}
    )


def delete_shared(w: World, a: Actor) -> None:
    key = f"shared/del-{a.name}"
    w.actors["owner"].s3.put_object(Bucket=w.bucket, Key=key, Body=b"x")
    a.s3.delete_object(Bucket=w.bucket, Key=key)


def multipart_shared(w: World, a: Actor) -> None:
    key = f"shared/mp-{a.name}"
    upload = a.s3.create_multipart_upload(Bucket=w.bucket, Key=key)["UploadId"]
    etag = a.s3.upload_part(Bucket=w.bucket, Key=key, UploadId=upload, PartNumber=1, Body=b"part")[
        "ETag"
    ]
    a.s3.complete_multipart_upload(
        Bucket=w.bucket,
        Key=key,
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )


def get_bucket_acl(w: World, a: Actor) -> None:
    a.s3.get_bucket_acl(Bucket=w.bucket)


def get_object_acl(w: World, a: Actor) -> None:
    a.s3.get_object_acl(Bucket=w.bucket, Key=SHARED)


def put_object_acl(w: World, a: Actor) -> None:
    a.s3.put_object_acl(Bucket=w.bucket, Key=SHARED, ACL="private")


def put_bucket_tagging(w: World, a: Actor) -> None:
    a.s3.put_bucket_tagging(Bucket=w.bucket, Tagging={"TagSet": [{"Key": "by", "Value": a.name}]})


def get_bucket_policy(w: World, a: Actor) -> None:
    a.s3.get_bucket_policy(Bucket=w.bucket)  # NoSuchBucketPolicy counts as allowed


def put_bucket_cors(w: World, a: Actor) -> None:
    rule = {"AllowedMethods": ["GET"], "AllowedOrigins": ["https://example.org"]}
    a.s3.put_bucket_cors(Bucket=w.bucket, CORSConfiguration={"CORSRules": [rule]})


def create_share(w: World, a: Actor) -> None:
    with a.api(w.server, SharesClient) as api:
        # to root, who is no row of the matrix: the share changes no other cell
        api.create_share(w.bucket, principal_type="user", principal="root", prefix="zz/")


def link_download(w: World, a: Actor) -> None:
    response = httpx.get(f"{w.link_url}/a.txt")
    assert response.status_code == 200, response.text
    assert response.content == SHARED.encode()


def link_download_denied(w: World, a: Actor) -> None:
    response = httpx.get(f"{w.link_url}/denied.txt")
    if response.status_code == 403:
        raise PermissionError(response.text)
    assert response.status_code == 200, response.text


COLUMNS: list[Callable[[World, Actor], None]] = [
    list_buckets,
    create_personal_bucket,
    create_project_bucket,
    delete_bucket,
    put_bucket_acl,
    head_bucket,
    list_shared_prefix,
    list_whole_bucket,
    get_shared,
    head_shared,
    get_private,
    get_denied,
    get_by_policy,
    get_by_acl,
    presigned_get_shared,
    presigned_get_denied,
    presigned_put_shared,
    put_shared,
    put_private,
    copy_into_shared,
    delete_shared,
    multipart_shared,
    get_bucket_acl,
    get_object_acl,
    put_object_acl,
    put_bucket_tagging,
    get_bucket_policy,
    put_bucket_cors,
    create_share,
    link_download,
    link_download_denied,
]
Y, N = "allow", "deny"
# one verdict per column, in COLUMNS order; the columns in groups:
#   list_buckets create_personal_bucket create_project_bucket delete_bucket put_bucket_acl
#     head_bucket list_shared_prefix list_whole_bucket get_shared head_shared get_private
#   get_denied get_by_policy get_by_acl presigned_get_shared presigned_get_denied
#     presigned_put_shared put_shared
#   put_private copy_into_shared delete_shared multipart_shared get_bucket_acl get_object_acl
#     put_object_acl
#   put_bucket_tagging get_bucket_policy put_bucket_cors create_share link_download
#     link_download_denied
EXPECTED = {
    "owner": [Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y]
    + [N, Y, Y, Y, N, Y, Y]
    + [Y, Y, Y, Y, Y, Y, Y]
    + [Y, Y, Y, Y, Y, N],
    "writer": [Y, Y, Y, N, N, Y, Y, Y, Y, Y, Y]
    + [N, Y, Y, Y, N, Y, Y]
    + [Y, Y, Y, Y, N, N, N]
    + [N, N, N, N, Y, N],
    "reader": [Y, Y, N, N, N, Y, Y, Y, Y, Y, Y]
    + [N, Y, Y, Y, N, N, N]
    + [N, N, N, N, N, N, N]
    + [N, N, N, N, Y, N],
    "grantee": [Y, Y, N, N, N, Y, Y, N, Y, Y, N]
    + [N, N, N, Y, N, Y, Y]
    + [N, Y, Y, Y, N, N, N]
    + [N, N, N, N, Y, N],
    "member": [Y, Y, N, N, N, Y, Y, N, Y, Y, N]
    + [N, N, N, Y, N, N, N]
    + [N, N, N, N, N, N, N]
    + [N, N, N, N, Y, N],
    "other": [Y, Y, N, N, N, N, N, N, N, N, N]
    + [N, Y, Y, N, N, N, N]
    + [N, N, N, N, N, N, N]
    + [N, N, N, N, Y, N],
    "anonymous": [N, N, N, N, N, N, N, N, N, N, N]
    + [N, N, N, N, N, N, N]
    + [N, N, N, N, N, N, N]
    + [N, N, N, N, Y, N],
}
DENIALS = {"AccessDenied", "403"}


def verdict(column: Callable[[World, Actor], None], world: World, actor: Actor) -> str:
    try:
        column(world, actor)
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in DENIALS or code == "NoSuchEntity":  # a stranger learns of no project
            return N
        if code.startswith("NoSuch") or code == "BucketNotEmpty":
            return Y  # authorized, and the configuration is simply absent (or objects remain)
        raise
    except APIError as exc:
        if exc.http_status in (401, 403):
            return N
        raise
    except PermissionError:  # a presigned URL or a share link answered 403
        return N
    return Y


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
def test_authorization_matrix(world: World, role: str) -> None:
    actor = world.actors[role]
    found = {column.__name__: verdict(column, world, actor) for column in COLUMNS}
    expected = dict(zip((c.__name__ for c in COLUMNS), EXPECTED[role], strict=True))
    assert found == expected
