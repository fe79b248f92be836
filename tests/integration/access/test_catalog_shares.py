"""The catalog API finds what a bucket's shares let a grantee read, and nothing more: on a
real server over SQLite, then over PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lading.client import CatalogClient, PermissionDeniedError, SharesClient
from lading.iam.policy_language import user_arn
from lading.testing.server import RunningServer
from tests.conftest import new_bucket_name
from tests.integration.access.conftest import Actor, add_actor, root_api

KEYS = ("docs/a", "docs/sub/b", "docsx/c", "private/p", "public/q")


@pytest.fixture(scope="module")
def owner(deployment: RunningServer) -> Actor:
    return add_actor(deployment, "owner")


@pytest.fixture
def owned(deployment: RunningServer, owner: Actor) -> Iterator[str]:
    """A bucket of `owner` whose every object carries the attribute kind = 'k'."""
    name = new_bucket_name()
    owner.s3.create_bucket(Bucket=name)
    with owner.api(deployment, CatalogClient) as catalog:
        for key in KEYS:
            owner.s3.put_object(Bucket=name, Key=key, Body=key.encode())
            catalog.set_attributes(name, key, {"kind": "k"})
    yield name


def found(catalog: CatalogClient, *buckets: str, **options: Any) -> list[str]:
    """The keys of every page of a search for kind = 'k', two entries a page."""
    items = catalog.search_all(
        "kind = 'k'", buckets=list(buckets), sortby=["key"], fields=["key"], limit=2, **options
    )
    return [item["key"] for item in items]


def test_a_grantee_finds_exactly_the_shared_prefixes(
    deployment: RunningServer, owner: Actor, owned: str
) -> None:
    grantee = add_actor(deployment, "grantee")
    with (
        owner.api(deployment, SharesClient) as shares,
        grantee.api(deployment, CatalogClient) as catalog,
    ):
        assert found(catalog) == []
        with pytest.raises(PermissionDeniedError):
            found(catalog, owned)
        shares.create_share(owned, principal_type="user", principal=grantee.name, prefix="docs/")
        # unscoped and named, page after page: the keys under docs/ alone (not docsx/)
        assert found(catalog) == ["docs/a", "docs/sub/b"]
        assert found(catalog, owned) == ["docs/a", "docs/sub/b"]
        assert [i["key"] for i in catalog.search(q="docs", buckets=[owned])["items"]] == [
            "docs/a",
            "docs/sub/b",
        ]
        counted = catalog.search("kind = 'k'", facets=["bucket", "kind"])["facets"]
        assert counted == {
            "bucket": [{"value": owned, "count": 2}],
            "kind": [{"value": "k", "count": 2}],
        }
        # entries as GetObject allows them, attributes as PutObjectTagging does
        assert catalog.get_attributes(owned, "docs/sub/b")["attributes"] == {"kind": "k"}
        for key in ("private/p", "docsx/c"):
            with pytest.raises(PermissionDeniedError):
                catalog.get_attributes(owned, key)
        with pytest.raises(PermissionDeniedError):
            catalog.set_attributes(owned, "docs/a", {"kind": "changed"})
        # a second share adds its prefix, with writes under it
        shares.create_share(
            owned, principal_type="user", principal=grantee.name, prefix="public/", permissions="rw"
        )
        assert found(catalog) == ["docs/a", "docs/sub/b", "public/q"]
        assert catalog.set_attributes(owned, "public/q", {"x": 1})["attributes"] == {
            "kind": "k",
            "x": 1,
        }
        with pytest.raises(PermissionDeniedError):
            catalog.set_attributes(owned, "private/p", {"x": 1})
        assert found(catalog, owned) == ["docs/a", "docs/sub/b", "public/q"]


def test_a_whole_bucket_share_shows_it_all_until_it_expires(
    deployment: RunningServer, owner: Actor, owned: str
) -> None:
    grantee = add_actor(deployment, "grantee")
    ends = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    with (
        owner.api(deployment, SharesClient) as shares,
        grantee.api(deployment, CatalogClient) as catalog,
    ):
        shares.create_share(
            owned, principal_type="user", principal=grantee.name, prefix="", expires_at=ends
        )
        assert found(catalog) == list(KEYS)
        assert found(catalog, owned) == list(KEYS)
        time.sleep(max(0.0, (ends - dt.datetime.now(dt.UTC)).total_seconds()) + 0.1)
        assert found(catalog) == []
        with pytest.raises(PermissionDeniedError):
            found(catalog, owned)
        with pytest.raises(PermissionDeniedError):
            catalog.get_attributes(owned, "docs/a")


def test_a_share_to_every_user_reaches_the_objects_of_the_bucket_account_only(
    deployment: RunningServer, owner: Actor, owned: str
) -> None:
    """A share lends the bucket's own objects: an object another user wrote there under a
    bucket policy stays that user's, out of the grantee's results."""
    writer = add_actor(deployment, "writer")
    grantee = add_actor(deployment, "grantee")
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": user_arn(writer.name)},
        "Action": ["s3:PutObject"],
        "Resource": f"arn:aws:s3:::{owned}/docs/*",
    }
    policy = {"Version": "2012-10-17", "Statement": [statement]}
    owner.s3.put_bucket_policy(Bucket=owned, Policy=json.dumps(policy))
    writer.s3.put_object(Bucket=owned, Key="docs/theirs", Body=b"t")
    with (
        owner.api(deployment, SharesClient) as shares,
        grantee.api(deployment, CatalogClient) as catalog,
    ):
        shares.create_share(owned, principal_type="all_authenticated_users", prefix="docs/")
        items = catalog.search(buckets=[owned], sortby=["key"], fields=["key"])["items"]
        assert [i["key"] for i in items] == ["docs/a", "docs/sub/b"]


def test_a_project_member_finds_the_project_buckets_without_naming_them(
    deployment: RunningServer, owner: Actor
) -> None:
    """A reader of a project finds the objects of its buckets in an unscoped search, as
    ListObjects and GetObject let them; a stranger finds none, a former member none."""
    reader, stranger = add_actor(deployment, "reader"), add_actor(deployment, "stranger")
    project, bucket = f"p-{uuid.uuid4().hex[:8]}", new_bucket_name()
    with root_api(deployment) as root:
        root.request("POST", "/projects", json={"name": project, "admin": owner.name})
        root.request("PUT", f"/projects/{project}/members/{reader.name}", json={"role": "reader"})
    with owner.api(deployment) as api, owner.api(deployment, CatalogClient) as catalog:
        api.request("POST", f"/projects/{project}/buckets", json={"name": bucket})
        for key in ("run/1", "run/2"):
            owner.s3.put_object(Bucket=bucket, Key=key, Body=b"x")
            catalog.set_attributes(bucket, key, {"kind": "k"})
    with (
        reader.api(deployment, CatalogClient) as reader_catalog,
        stranger.api(deployment, CatalogClient) as stranger_catalog,
    ):
        assert [i["key"] for i in reader_catalog.search(q="run")["items"]] == ["run/1", "run/2"]
        assert bucket not in {i["bucket"] for i in stranger_catalog.search(q="run")["items"]}
        with root_api(deployment) as root:
            root.request("DELETE", f"/projects/{project}/members/{reader.name}")
        assert reader_catalog.search(q="run")["items"] == []


def test_a_policy_deny_under_a_granted_prefix_keeps_those_keys_out_of_search(
    deployment: RunningServer, owner: Actor, owned: str
) -> None:
    """GetObject refuses keys a Deny statement names, under a shared prefix or a whole-bucket
    share alike; search leaves out the same keys, page after page, and facets do not count
    them (they used to)."""
    prefix_grantee = add_actor(deployment, "prefix-grantee")
    bucket_grantee = add_actor(deployment, "bucket-grantee")
    deny = {
        "Effect": "Deny",
        "Principal": {"AWS": [user_arn(prefix_grantee.name), user_arn(bucket_grantee.name)]},
        "Action": ["s3:GetObject"],
        "Resource": [f"arn:aws:s3:::{owned}/docs/sub/*", f"arn:aws:s3:::{owned}/*/q"],
    }
    policy = {"Version": "2012-10-17", "Statement": [deny]}
    owner.s3.put_bucket_policy(Bucket=owned, Policy=json.dumps(policy))
    with owner.api(deployment, SharesClient) as shares:
        shares.create_share(
            owned, principal_type="user", principal=prefix_grantee.name, prefix="docs/"
        )
        shares.create_share(owned, principal_type="user", principal=bucket_grantee.name, prefix="")
    for grantee, readable in (
        (prefix_grantee, ["docs/a"]),
        (bucket_grantee, ["docs/a", "docsx/c", "private/p"]),
    ):
        with grantee.api(deployment, CatalogClient) as catalog:
            assert found(catalog, owned) == readable
            unscoped = catalog.search_all("kind = 'k'", fields=["bucket", "key"], limit=2)
            assert [i["key"] for i in unscoped if i["bucket"] == owned] == readable
            counted = catalog.search("kind = 'k'", buckets=[owned], facets=["kind", "key"])
            assert counted["facets"]["kind"] == [{"value": "k", "count": len(readable)}]
            assert sorted(f["value"] for f in counted["facets"]["key"]) == readable
        for key in ("docs/sub/b", "public/q"):
            with pytest.raises(ClientError, match="AccessDenied"):
                grantee.s3.get_object(Bucket=owned, Key=key)
    with owner.api(deployment, CatalogClient) as catalog:  # the Deny names the grantees only
        assert found(catalog, owned) == list(KEYS)
        counted = catalog.search("kind = 'k'", buckets=[owned], facets=["kind"])
        assert counted["facets"]["kind"] == [{"value": "k", "count": len(KEYS)}]
