"""The catalog routes of the control API through the SDK: attributes, search, errors."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from lading.client import (
    AuthenticationError,
    BadRequestError,
    CatalogClient,
    NotFoundError,
    PermissionDeniedError,
)
from lading.testing.server import RunningServer

API = "/_/api/v1"


@pytest.fixture
def catalog(server: RunningServer) -> Iterator[CatalogClient]:
    with CatalogClient(
        server.url, access_key=server.access_key, secret_key=server.secret_key
    ) as client:
        yield client


@pytest.fixture
def alt_catalog(server: RunningServer, alt_user: dict[str, str]) -> Iterator[CatalogClient]:
    with CatalogClient(
        server.url, access_key=alt_user["access_key"], secret_key=alt_user["secret_key"]
    ) as client:
        yield client


def test_put_patch_get_attributes(catalog: CatalogClient, bucket: str, s3: Any) -> None:
    s3.put_object(
        Bucket=bucket,
        Key="dir/a b.bin",
        Body=b"abc",
        Metadata={"origin": "lab"},
        Tagging="stage=raw",
    )
    entry = catalog.set_attributes(
        bucket,
        "dir/a b.bin",
        {
            "experiment_id": "exp1",
            "date": {"type": "timestamp", "value": "2016-06-06"},
            "run": 3,
            "ok": True,
            "keywords": ["x", "y"],
        },
        replace=True,
    )
    assert entry["attributes"]["date"] == "2016-06-06T00:00:00Z"
    assert entry["attribute_types"] == {
        "date": "timestamp",
        "experiment_id": "string",
        "keywords": "list",
        "ok": "boolean",
        "run": "number",
    }
    assert entry["metadata"] == {"origin": "lab"} and entry["tags"] == {"stage": "raw"}
    assert entry["size"] == 3 and entry["url"].endswith(f"/{bucket}/dir/a%20b.bin")
    patched = catalog.set_attributes(bucket, "dir/a b.bin", {"run": None, "note": "n"})
    assert set(patched["attributes"]) == {"experiment_id", "date", "ok", "keywords", "note"}
    assert catalog.get_attributes(bucket, "dir/a b.bin")["attributes"] == patched["attributes"]
    found = catalog.search(
        "meta:origin = 'lab' AND tag:stage = 'raw' AND note = 'n'",
        buckets=[bucket],
        fields=["url", "experiment_id"],
    )
    assert found["items"] == [{"url": entry["url"], "experiment_id": "exp1"}]


def test_bad_attributes_are_400_and_change_nothing(
    catalog: CatalogClient, bucket: str, s3: Any
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    catalog.set_attributes(bucket, "k", {"a": 1}, replace=True)
    for bad in ({"size": 1}, {"b": {"nested": 1}}, {"c": [1, 2]}, {"bad name": 1}):
        with pytest.raises(BadRequestError) as caught:
            catalog.set_attributes(bucket, "k", bad)
        assert caught.value.http_status == 400
        assert caught.value.code == "InvalidArgument"
    assert catalog.get_attributes(bucket, "k")["attributes"] == {"a": 1}


def test_missing_objects_and_buckets_are_404(catalog: CatalogClient, bucket: str) -> None:
    with pytest.raises(NotFoundError) as caught:
        catalog.get_attributes(bucket, "nope")
    assert caught.value.code == "NoSuchKey"
    with pytest.raises(NotFoundError) as caught:
        catalog.set_attributes("no-such-bucket-here", "k", {"a": 1})
    assert caught.value.code == "NoSuchBucket"


def test_other_users_can_neither_read_nor_write(
    catalog: CatalogClient, alt_catalog: CatalogClient, bucket: str, s3: Any
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    catalog.set_attributes(bucket, "k", {"secret": "yes"})
    with pytest.raises(PermissionDeniedError):
        alt_catalog.get_attributes(bucket, "k")
    with pytest.raises(PermissionDeniedError):
        alt_catalog.set_attributes(bucket, "k", {"secret": "no"})
    with pytest.raises(PermissionDeniedError):
        alt_catalog.search(buckets=[bucket])
    assert alt_catalog.search("secret = 'yes'")["items"] == []
    assert catalog.get_attributes(bucket, "k")["attributes"] == {"secret": "yes"}


def _keys(client: CatalogClient, bucket: str, **options: Any) -> list[str]:
    return [i["key"] for i in client.search_all(buckets=[bucket], fields=["key"], **options)]


def test_a_bucket_owner_finds_another_users_objects_only_once_it_enforces_ownership(
    catalog: CatalogClient, alt_catalog: CatalogClient, bucket: str, s3: Any, s3_alt: Any
) -> None:
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": ["s3:PutObject", "s3:GetObject", "s3:PutObjectTagging"],
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    policy = {"Version": "2012-10-17", "Statement": [statement]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    s3.put_object(Bucket=bucket, Key="mine", Body=b"x")
    s3_alt.put_object(Bucket=bucket, Key="theirs", Body=b"y", Metadata={"secret": "s"})
    catalog.set_attributes(bucket, "mine", {"group": "g"})
    alt_catalog.set_attributes(bucket, "theirs", {"group": "g"})
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="theirs")
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    # the bucket owner: neither in results, pages, full text nor facet counts
    assert _keys(catalog, bucket, limit=1) == ["mine"]
    assert _keys(catalog, bucket, q="theirs") == []
    page = catalog.search("group = 'g'", buckets=[bucket], facets=["group", "owner"])
    assert [i["key"] for i in page["items"]] == ["mine"]
    assert page["facets"]["group"] == [{"value": "g", "count": 1}]
    assert len(page["facets"]["owner"]) == 1
    for call in (
        lambda: catalog.get_attributes(bucket, "theirs"),
        lambda: catalog.set_attributes(bucket, "theirs", {"group": "h"}),
    ):
        with pytest.raises(PermissionDeniedError) as denied:
            call()
        assert (denied.value.http_status, denied.value.code) == (403, "AccessDenied")
    # the writer reads its own object, and the owner's through the policy
    assert _keys(alt_catalog, bucket) == ["mine", "theirs"]
    assert alt_catalog.get_attributes(bucket, "theirs")["attributes"] == {"group": "g"}
    s3.put_bucket_ownership_controls(
        Bucket=bucket,
        OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    )
    assert _keys(catalog, bucket, limit=1) == ["mine", "theirs"]
    page = catalog.search(buckets=[bucket], facets=["group"])
    assert page["facets"]["group"] == [{"value": "g", "count": 2}]
    entry = catalog.get_attributes(bucket, "theirs")
    assert entry["metadata"] == {"secret": "s"} and entry["attributes"] == {"group": "g"}


def test_search_pages_sorts_counts_and_refuses_bad_filters(
    server: RunningServer, catalog: CatalogClient, bucket: str, s3: Any
) -> None:
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"f{i}", Body=b"x" * (i + 1))
        catalog.set_attributes(bucket, f"f{i}", {"group": "odd" if i % 2 else "even", "idx": i})
    keys = [
        item["key"]
        for item in catalog.search_all(buckets=[bucket], sortby=["-size"], limit=2, fields=["key"])
    ]
    assert keys == ["f4", "f3", "f2", "f1", "f0"]
    page = catalog.search("idx >= 1", buckets=[bucket], facets=["group"], fields=["key"])
    assert page["facets"]["group"] == [{"value": "even", "count": 2}, {"value": "odd", "count": 2}]
    cql2_json = {"op": "=", "args": [{"property": "group"}, "odd"]}
    assert {i["key"] for i in catalog.search(cql2_json, buckets=[bucket])["items"]} == {"f1", "f3"}
    assert {i["key"] for i in catalog.search(q="f2", buckets=[bucket])["items"]} == {"f2"}
    # GET with query parameters, as a browser or curl would
    with httpx.Client() as http:
        unsigned = http.get(f"{server.url}{API}/catalog/search", params={"filter": "idx = 1"})
    assert unsigned.status_code == 401
    for bad in ("idx = ", "idx + 1 = 2"):
        with pytest.raises(BadRequestError, match="CQL2"):
            catalog.search(bad, buckets=[bucket])
    with pytest.raises(BadRequestError, match="sort"):
        catalog.search(buckets=[bucket], sortby=["group"])
    with pytest.raises(BadRequestError):
        catalog.search(buckets=[bucket], limit=0)


def test_unsigned_catalog_calls_are_401(server: RunningServer) -> None:
    with CatalogClient(server.url) as anonymous, pytest.raises(AuthenticationError):
        anonymous.search("a = 1")


def test_the_server_indexes_new_text_without_waiting_for_a_search(
    server: RunningServer, bucket: str, s3: Any
) -> None:
    """Writes queue their text for SQLite's full-text index; the server's own pass (every
    `metadata.text_index_seconds`) applies the queue, so it does not grow until a search."""
    s3.put_object(Bucket=bucket, Key="queued/one", Body=b"1", Metadata={"w": "quokkaword"})
    s3.put_object(Bucket=bucket, Key="queued/one", Body=b"2", Metadata={"w": "wombatword"})

    def index() -> tuple[int, list[str]]:
        with contextlib.closing(sqlite3.connect(server.data_dir / "metadata.db")) as db:
            queued = db.execute("SELECT count(*) FROM catalog_text_pending").fetchone()[0]
            found = db.execute(
                "SELECT body FROM catalog_fts WHERE catalog_fts MATCH 'quokkaword OR wombatword'"
            ).fetchall()
        return int(queued), [row[0] for row in found]

    deadline = time.monotonic() + 15
    while (state := index())[0] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert state == (0, ["queued one wombatword"])
