"""Shares through the control API and the SDK, judged by real boto3 clients."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from lading.client import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    SharesClient,
)
from lading.testing.server import RunningServer
from tests.conftest import new_bucket_name
from tests.integration.access.conftest import Actor, add_actor, anonymous_actor, root_api


def denied(call: Any, **kwargs: Any) -> bool:
    try:
        call(**kwargs)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("AccessDenied", "403"):
            return True
        raise
    return False


@pytest.fixture(scope="module")
def owner(server: RunningServer) -> Actor:
    return add_actor(server, "owner")


@pytest.fixture(scope="module")
def grantee(server: RunningServer) -> Actor:
    return add_actor(server, "grantee")


@pytest.fixture(scope="module")
def other(server: RunningServer) -> Actor:
    return add_actor(server, "other")


@pytest.fixture
def owned(owner: Actor) -> Iterator[str]:
    """A bucket of `owner` holding docs/a, docs/sub/b and private/p."""
    name = new_bucket_name()
    owner.s3.create_bucket(Bucket=name)
    for key in ("docs/a", "docs/sub/b", "private/p"):
        owner.s3.put_object(Bucket=name, Key=key, Body=key.encode())
    yield name


@pytest.fixture
def shares(server: RunningServer, owner: Actor) -> Iterator[SharesClient]:
    with owner.api(server, SharesClient) as client:
        yield client


def test_a_read_share_admits_reading_and_listing_inside_the_prefix_only(
    server: RunningServer, shares: SharesClient, owned: str, grantee: Actor
) -> None:
    s3 = grantee.s3
    assert denied(s3.get_object, Bucket=owned, Key="docs/a")
    made = shares.create_share(
        owned, principal_type="user", principal=grantee.name, prefix="docs/", permissions="r"
    )
    assert made["principal"] == grantee.name and made["permissions"] == "r"
    assert s3.get_object(Bucket=owned, Key="docs/a")["Body"].read() == b"docs/a"
    s3.head_object(Bucket=owned, Key="docs/sub/b")
    s3.head_bucket(Bucket=owned)
    listed = s3.list_objects_v2(Bucket=owned, Prefix="docs/", Delimiter="/")
    assert [o["Key"] for o in listed["Contents"]] == ["docs/a"]
    assert [p["Prefix"] for p in listed["CommonPrefixes"]] == ["docs/sub/"]
    assert s3.list_objects_v2(Bucket=owned, Prefix="docs/sub/")["KeyCount"] == 1
    # outside the prefix, or a listing that would reveal other keys: AccessDenied
    assert denied(s3.get_object, Bucket=owned, Key="private/p")
    assert denied(s3.list_objects_v2, Bucket=owned)
    assert denied(s3.list_objects_v2, Bucket=owned, Prefix="doc")
    assert denied(s3.list_objects, Bucket=owned, Prefix="private/")
    assert denied(s3.put_object, Bucket=owned, Key="docs/new", Body=b"x")
    assert denied(s3.delete_object, Bucket=owned, Key="docs/a")
    assert denied(s3.get_object_acl, Bucket=owned, Key="docs/a")
    assert denied(s3.get_bucket_acl, Bucket=owned)
    # the grantee sees the share among those made to them, and can read it
    with grantee.api(server, SharesClient) as mine:
        assert [s["id"] for s in mine.list_shares(granted=True)] == [made["id"]]
        assert mine.get_share(made["id"])["bucket"] == owned
        with pytest.raises(PermissionDeniedError):
            mine.delete_share(made["id"])


def test_a_read_write_share_admits_writes_and_deletes_under_the_prefix(
    shares: SharesClient, owned: str, grantee: Actor, owner: Actor
) -> None:
    shares.create_share(
        owned, principal_type="user", principal=grantee.name, prefix="docs/", permissions="rw"
    )
    s3 = grantee.s3
    s3.put_object(Bucket=owned, Key="docs/new", Body=b"new")
    s3.copy_object(Bucket=owned, Key="docs/copy", CopySource={"Bucket": owned, "Key": "docs/a"})
    s3.delete_object(Bucket=owned, Key="docs/a")
    deleted = s3.delete_objects(
        Bucket=owned, Delete={"Objects": [{"Key": "docs/copy"}, {"Key": "private/p"}]}
    )
    assert [d["Key"] for d in deleted["Deleted"]] == ["docs/copy"]
    assert [(e["Key"], e["Code"]) for e in deleted["Errors"]] == [("private/p", "AccessDenied")]
    assert denied(s3.put_object, Bucket=owned, Key="private/x", Body=b"x")
    assert denied(
        s3.copy_object,
        Bucket=owned,
        Key="docs/leak",
        CopySource={"Bucket": owned, "Key": "private/p"},
    )
    keys = [o["Key"] for o in owner.s3.list_objects_v2(Bucket=owned)["Contents"]]
    assert keys == ["docs/new", "docs/sub/b", "private/p"]


def test_deleting_a_share_ends_access_at_once_and_keeps_the_data(
    shares: SharesClient, owned: str, grantee: Actor, owner: Actor
) -> None:
    made = shares.create_share(
        owned, principal_type="user", principal=grantee.name, prefix="docs/", permissions="rw"
    )
    grantee.s3.put_object(Bucket=owned, Key="docs/by-grantee", Body=b"mine")
    shares.delete_share(made["id"])
    assert denied(grantee.s3.get_object, Bucket=owned, Key="docs/a")
    assert owner.s3.get_object(Bucket=owned, Key="docs/by-grantee")["Body"].read() == b"mine"
    with pytest.raises(NotFoundError):
        shares.get_share(made["id"])
    with pytest.raises(NotFoundError):
        shares.delete_share(made["id"])


def test_an_expired_share_refuses_from_its_expiry_on(
    shares: SharesClient, owned: str, grantee: Actor
) -> None:
    ends = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    made = shares.create_share(
        owned, principal_type="user", principal=grantee.name, prefix="docs/", expires_at=ends
    )
    assert made["expired"] is False
    grantee.s3.get_object(Bucket=owned, Key="docs/a")
    time.sleep(max(0.0, (ends - dt.datetime.now(dt.UTC)).total_seconds()) + 0.1)
    assert denied(grantee.s3.get_object, Bucket=owned, Key="docs/a")
    assert shares.get_share(made["id"])["expired"] is True


def test_all_authenticated_users_and_anonymous_shares(
    server: RunningServer, shares: SharesClient, owned: str, other: Actor, owner: Actor
) -> None:
    anonymous = anonymous_actor(server).s3
    shares.create_share(owned, principal_type="all_authenticated_users", prefix="docs/")
    other.s3.get_object(Bucket=owned, Key="docs/a")
    assert denied(anonymous.get_object, Bucket=owned, Key="docs/a")
    shares.create_share(owned, principal_type="anonymous", prefix="docs/sub/")
    assert anonymous.get_object(Bucket=owned, Key="docs/sub/b")["Body"].read() == b"docs/sub/b"
    assert anonymous.list_objects_v2(Bucket=owned, Prefix="docs/sub/")["KeyCount"] == 1
    assert denied(anonymous.get_object, Bucket=owned, Key="docs/a")
    assert denied(anonymous.put_object, Bucket=owned, Key="docs/sub/x", Body=b"x")
    # the public access block makes public shares count for nothing, as public ACLs
    block = {"RestrictPublicBuckets": True}
    owner.s3.put_public_access_block(Bucket=owned, PublicAccessBlockConfiguration=block)
    assert denied(anonymous.get_object, Bucket=owned, Key="docs/sub/b")
    assert denied(other.s3.get_object, Bucket=owned, Key="docs/a")
    owner.s3.delete_public_access_block(Bucket=owned)
    assert anonymous.get_object(Bucket=owned, Key="docs/sub/b")["Body"].read() == b"docs/sub/b"


@pytest.mark.parametrize(
    ("change", "error", "code"),
    [
        ({"principal": "nobody-here"}, NotFoundError, "NoSuchUser"),
        ({"principal_type": "group", "principal": "no-such-group"}, NotFoundError, "NoSuchGroup"),
        ({"permissions": "rwx"}, BadRequestError, "ValidationError"),
        ({"principal_type": "everyone"}, BadRequestError, "ValidationError"),
        ({"principal_type": "anonymous"}, BadRequestError, "InvalidArgument"),
        ({"principal": None}, BadRequestError, "InvalidArgument"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, BadRequestError, "InvalidArgument"),
        ({"notify_email": "not-an-address"}, BadRequestError, "InvalidArgument"),
        ({"expires_at": "1893456000"}, BadRequestError, "ValidationError"),
        ({"expires_at": "2030-01-01"}, BadRequestError, "ValidationError"),
        ({"prefix": "x" * 1025}, BadRequestError, "ValidationError"),
        ({"prefix": "a\x00b"}, BadRequestError, "InvalidArgument"),
        ({"message": "hello\x00"}, BadRequestError, "InvalidArgument"),
    ],
)
def test_bad_shares_are_refused_and_nothing_is_stored(
    shares: SharesClient, owned: str, grantee: Actor, change: dict[str, Any], error: type, code: str
) -> None:
    request = {"principal_type": "user", "principal": grantee.name, "prefix": "docs/", **change}
    with pytest.raises(error) as caught:
        shares.create_share(owned, **request)
    assert caught.value.code == code
    assert list(shares.list_shares(bucket=owned)) == []


def test_only_the_owner_may_share_a_bucket(
    server: RunningServer, owned: str, other: Actor, shares: SharesClient
) -> None:
    with other.api(server, SharesClient) as client, pytest.raises(PermissionDeniedError):
        client.create_share(owned, principal_type="user", principal=other.name, prefix="")
    with other.api(server, SharesClient) as client, pytest.raises(PermissionDeniedError):
        list(client.list_shares(bucket=owned))
    with pytest.raises(NotFoundError):
        shares.create_share(new_bucket_name(), principal_type="anonymous")
    with SharesClient(server.url) as nobody, pytest.raises(AuthenticationError):
        nobody.create_share(owned, principal_type="anonymous")
    assert list(shares.list_shares(bucket=owned)) == []


def test_shares_are_listed_page_by_page(shares: SharesClient, owned: str, grantee: Actor) -> None:
    made = [
        shares.create_share(owned, principal_type="user", principal=grantee.name, prefix=p)["id"]
        for p in ("a/", "b/", "c/")
    ]
    assert [s["id"] for s in shares.list_shares(bucket=owned, limit=2)] == made
    assert made[0] in [s["id"] for s in shares.list_shares()]  # all of the owner's buckets


def test_a_deleted_bucket_takes_its_shares_along(
    shares: SharesClient, owner: Actor, grantee: Actor
) -> None:
    name = new_bucket_name()
    owner.s3.create_bucket(Bucket=name)
    made = shares.create_share(name, principal_type="user", principal=grantee.name, prefix="")
    owner.s3.delete_bucket(Bucket=name)
    owner.s3.create_bucket(Bucket=name)
    owner.s3.put_object(Bucket=name, Key="k", Body=b"x")
    assert denied(grantee.s3.get_object, Bucket=name, Key="k")
    with pytest.raises(NotFoundError):
        shares.get_share(made["id"])


def test_a_notification_lands_in_the_outbox_for_admins(
    server: RunningServer, shares: SharesClient, owned: str, grantee: Actor
) -> None:
    address = f"{uuid.uuid4().hex[:8]}@example.org"
    made = shares.create_share(
        owned,
        principal_type="user",
        principal=grantee.name,
        prefix="docs/",
        message="Here is <the> data.",
        notify_email=address,
    )
    with root_api(server, SharesClient) as admin:
        found = [m for m in admin.list_outbox() if m["recipient"] == address]
    assert len(found) == 1
    assert found[0]["status"] == "stored"  # no SMTP server configured
    assert found[0]["share_id"] == made["id"]
    assert f"{owned}/docs/" in found[0]["subject"]
    assert "Here is <the> data." in found[0]["body"]
    with pytest.raises(PermissionDeniedError):
        list(shares.list_outbox())


def _eventually_denied(call: Any, expected: bool, **kwargs: Any) -> bool:
    """Group membership is cached for a couple of seconds per process."""
    deadline = time.monotonic() + 5
    while True:
        if denied(call, **kwargs) is expected or time.monotonic() > deadline:
            return denied(call, **kwargs)
        time.sleep(0.25)


def test_a_group_share_follows_the_groups_membership(
    server: RunningServer, shares: SharesClient, owned: str
) -> None:
    late = add_actor(server, "late")
    group = f"g-{uuid.uuid4().hex[:8]}"
    with root_api(server) as root:
        root.request("POST", "/groups", json={"name": group})
        shares.create_share(owned, principal_type="group", principal=group, prefix="docs/")
        assert denied(late.s3.get_object, Bucket=owned, Key="docs/a")
        root.request("PUT", f"/groups/{group}/members/{late.name}")
        assert not _eventually_denied(late.s3.get_object, False, Bucket=owned, Key="docs/a")
        root.request("DELETE", f"/groups/{group}/members/{late.name}")
        assert _eventually_denied(late.s3.get_object, True, Bucket=owned, Key="docs/a")


def test_a_project_admin_may_share_the_projects_buckets(server: RunningServer) -> None:
    admin, writer, friend = (add_actor(server, r) for r in ("padmin", "pwriter", "friend"))
    project, bucket = f"p-{uuid.uuid4().hex[:8]}", new_bucket_name()
    with root_api(server) as root:
        root.request("POST", "/projects", json={"name": project, "admin": admin.name})
        root.request("PUT", f"/projects/{project}/members/{writer.name}", json={"role": "writer"})
    with writer.api(server) as api:
        api.request("POST", f"/projects/{project}/buckets", json={"name": bucket})
    writer.s3.put_object(Bucket=bucket, Key="out/x", Body=b"x")
    with friend.api(server, SharesClient) as client, pytest.raises(PermissionDeniedError):
        client.create_share(bucket, principal_type="user", principal=friend.name)
    with admin.api(server, SharesClient) as client:
        client.create_share(bucket, principal_type="user", principal=friend.name, prefix="out/")
    assert friend.s3.get_object(Bucket=bucket, Key="out/x")["Body"].read() == b"x"


@pytest.mark.parametrize(
    "path",
    ["/shares/99999999999999999999999", "/shares/0", "/links/-1", "/links/x/uses"],
)
def test_ids_out_of_range_are_validation_errors(shares: SharesClient, path: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        shares.request("GET", path)
    assert caught.value.code == "ValidationError"


def test_a_bucket_name_with_odd_characters_is_a_validation_error(shares: SharesClient) -> None:
    with pytest.raises(BadRequestError) as caught:
        list(shares.list_shares(bucket="bad\x00name"))
    assert caught.value.code == "ValidationError"


def test_a_grantees_presigned_url_reaches_what_the_share_allows(
    shares: SharesClient, owned: str, grantee: Actor
) -> None:
    shares.create_share(owned, principal_type="user", principal=grantee.name, prefix="docs/")
    inside = grantee.s3.generate_presigned_url(
        "get_object", Params={"Bucket": owned, "Key": "docs/a"}, ExpiresIn=60
    )
    outside = grantee.s3.generate_presigned_url(
        "get_object", Params={"Bucket": owned, "Key": "private/p"}, ExpiresIn=60
    )
    assert httpx.get(inside).content == b"docs/a"
    refused = httpx.get(outside)
    assert refused.status_code == 403
    assert b"<Code>AccessDenied</Code>" in refused.content


def test_the_openapi_document_describes_shares_and_links(server: RunningServer) -> None:
    document = httpx.get(f"{server.url}/_/api/v1/openapi.json").json()
    paths = document["paths"]
    assert {"post", "get"} <= set(paths["/shares"])
    assert {"get", "delete"} <= set(paths["/shares/{share_id}"])
    assert {"post", "get"} <= set(paths["/links"])
    assert "post" in paths["/links/{link_id}/revoke"]
    assert "get" in paths["/links/{link_id}/uses"]
    assert "get" in paths["/outbox"]
    share = document["components"]["schemas"]["ShareIn"]["properties"]
    assert share["permissions"]["enum"] == ["r", "rw"]


def test_unknown_fields_are_refused(shares: SharesClient, owned: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        shares.request(
            "POST",
            "/shares",
            json={"bucket": owned, "principal_type": "anonymous", "permission": "rw"},
        )
    assert caught.value.code == "ValidationError"
    assert list(shares.list_shares(bucket=owned)) == []


def test_text_that_is_not_unicode_is_refused(shares: SharesClient, owned: str) -> None:
    text = '"lone \\ud800 surrogate"'  # a JSON escape of half a surrogate pair
    body = f'{{"bucket": "{owned}", "principal_type": "anonymous", "prefix": {text}}}'
    response = shares._http.post(
        "/shares", content=body.encode(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "ValidationError"
    assert list(shares.list_shares(bucket=owned)) == []


def test_a_deleted_groups_shares_go_with_it(
    server: RunningServer, shares: SharesClient, owned: str
) -> None:
    newcomer = add_actor(server, "newcomer")
    first, second = (f"g-{uuid.uuid4().hex[:8]}" for _ in range(2))
    with root_api(server) as root:
        root.request("POST", "/groups", json={"name": first})
        made = shares.create_share(owned, principal_type="group", principal=first, prefix="")
        root.request("DELETE", f"/groups/{first}")
        # on SQLite the next group may get the deleted group's id
        root.request("POST", "/groups", json={"name": second})
        root.request("PUT", f"/groups/{second}/members/{newcomer.name}")
    with pytest.raises(NotFoundError):
        shares.get_share(made["id"])
    time.sleep(1.1)  # the bucket record other processes may hold
    assert denied(newcomer.s3.get_object, Bucket=owned, Key="docs/a")
