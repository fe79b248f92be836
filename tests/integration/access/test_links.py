"""Share links in a browser: index pages, downloads, limits, revocation and the audit trail."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lading.client import BadRequestError, LinksClient, NotFoundError, PermissionDeniedError
from lading.testing.server import RunningServer
from tests.conftest import new_bucket_name
from tests.integration.access.conftest import Actor, add_actor

BODY = b"0123456789" * 10  # 100 bytes


@pytest.fixture(scope="module")
def owner(server: RunningServer) -> Actor:
    return add_actor(server, "linker")


@pytest.fixture
def owned(owner: Actor) -> Iterator[str]:
    name = new_bucket_name()
    owner.s3.create_bucket(Bucket=name)
    owner.s3.put_object(Bucket=name, Key="data/run 1/result.csv", Body=BODY, ContentType="text/csv")
    owner.s3.put_object(Bucket=name, Key="data/<img src=x onerror=alert(1)>&.txt", Body=b"x")
    owner.s3.put_object(Bucket=name, Key="data/sub/deep.bin", Body=b"deep")
    owner.s3.put_object(Bucket=name, Key="private/secret", Body=b"secret")
    yield name


@pytest.fixture
def links(server: RunningServer, owner: Actor) -> Iterator[LinksClient]:
    with owner.api(server, LinksClient) as client:
        yield client


def test_a_prefix_link_shows_an_escaped_index_and_downloads(
    links: LinksClient, owned: str, server: RunningServer
) -> None:
    made = links.create_link(owned, prefix="data/", note="Run <1> results")
    assert made["url"] == f"{server.url}/_/s/{made['token']}"
    assert len(made["token"]) >= 43  # 256 random bits, base64url
    page = httpx.get(made["url"])
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "<img" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;&amp;.txt" in page.text
    assert "Run &lt;1&gt; results" in page.text
    assert 'href="/_/s/' + made["token"] + '?path=run+1%2F"' in page.text
    assert "sub/" in page.text and "deep.bin" not in page.text
    folder = httpx.get(made["url"], params={"path": "run 1/"})
    assert "result.csv" in folder.text and "100 B" in folder.text
    download = httpx.get(f"{made['url']}/run%201/result.csv")
    assert download.status_code == 200
    assert download.content == BODY
    assert download.headers["content-type"] == "text/csv"
    assert download.headers["content-disposition"].startswith('attachment; filename="result.csv"')
    ranged = httpx.get(f"{made['url']}/run%201/result.csv", headers={"Range": "bytes=10-19"})
    assert ranged.status_code == 206
    assert ranged.content == BODY[10:20]
    assert ranged.headers["content-range"] == "bytes 10-19/100"
    bad_range = httpx.get(f"{made['url']}/run%201/result.csv", headers={"Range": "bytes=500-"})
    assert bad_range.status_code == 416
    assert bad_range.headers["content-range"] == "bytes */100"


def test_a_link_reaches_nothing_outside_its_prefix(links: LinksClient, owned: str) -> None:
    url = links.create_link(owned, prefix="data/")["url"]
    for path in ("/../private/secret", "/..%2Fprivate%2Fsecret", "/private/secret"):
        response = httpx.get(url + path)
        assert response.status_code == 404, path
        assert b"secret" not in response.content
    assert httpx.get(url, params={"path": "../"}).status_code == 200  # a literal key prefix
    assert httpx.get(url, params={"path": "no-slash"}).status_code == 400
    assert httpx.get(url, params={"path": "a\x00/"}).status_code == 400
    assert httpx.get(url + "/a%00b").status_code == 404


def test_an_object_link_downloads_the_object(links: LinksClient, owned: str) -> None:
    made = links.create_link(owned, key="data/sub/deep.bin")
    response = httpx.get(made["url"])
    assert response.status_code == 200
    assert response.content == b"deep"
    assert 'filename="deep.bin"' in response.headers["content-disposition"]
    assert httpx.get(made["url"] + "/other").status_code == 404


def test_a_paginated_index(links: LinksClient, owned: str, owner: Actor) -> None:
    for i in range(205):
        owner.s3.put_object(Bucket=owned, Key=f"many/{i:04d}", Body=b"")
    url = links.create_link(owned, prefix="many/")["url"]
    first = httpx.get(url).text
    assert "0000" in first and "0199" in first and "0200" not in first
    assert 'rel="next"' in first
    second = httpx.get(url, params={"path": "", "after": "0199"}).text
    assert "0200" in second and "0204" in second and "0199" not in second
    assert 'rel="next"' not in second


def test_a_revoked_link_is_refused_with_a_clear_page(links: LinksClient, owned: str) -> None:
    made = links.create_link(owned, prefix="data/")
    assert httpx.get(made["url"]).status_code == 200
    revoked = links.revoke_link(made["id"])
    assert revoked["state"] == "revoked"
    for url in (made["url"], made["url"] + "/sub/deep.bin"):
        response = httpx.get(url)
        assert response.status_code == 410
        assert "revoked" in response.text


def test_an_expired_link_is_refused(links: LinksClient, owned: str) -> None:
    ends = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1.5)
    made = links.create_link(owned, key="data/sub/deep.bin", expires_at=ends)
    assert httpx.get(made["url"]).status_code == 200
    time.sleep(max(0.0, (ends - dt.datetime.now(dt.UTC)).total_seconds()) + 0.1)
    response = httpx.get(made["url"])
    assert response.status_code == 410
    assert "expired" in response.text
    assert links.get_link(made["id"])["state"] == "expired"


def test_a_link_is_used_up_after_its_use_count(links: LinksClient, owned: str) -> None:
    made = links.create_link(owned, prefix="data/", max_uses=2)
    deep = made["url"] + "/sub/deep.bin"
    assert httpx.get(made["url"]).status_code == 200  # index pages do not count
    assert httpx.get(deep).status_code == 200
    assert httpx.get(deep).status_code == 200
    refused = httpx.get(deep)
    assert refused.status_code == 410
    assert "used as many times" in refused.text
    assert links.get_link(made["id"])["uses"] == 2


def test_a_link_refuses_a_download_past_its_byte_cap(links: LinksClient, owned: str) -> None:
    made = links.create_link(owned, prefix="data/", max_bytes=150)
    url = made["url"] + "/run%201/result.csv"
    assert httpx.get(url).status_code == 200  # 100 bytes
    assert httpx.get(url).status_code == 410  # another 100 would pass 150
    assert httpx.get(url, headers={"Range": "bytes=0-49"}).status_code == 206  # exactly 150
    refused = httpx.get(url, headers={"Range": "bytes=0-0"})
    assert refused.status_code == 410
    assert "bytes" in refused.text
    assert links.get_link(made["id"])["bytes_served"] == 150


def test_every_use_is_recorded(links: LinksClient, owned: str) -> None:
    made = links.create_link(owned, prefix="data/", max_uses=1)
    httpx.get(made["url"])
    httpx.get(made["url"] + "/sub/deep.bin")
    httpx.get(made["url"] + "/sub/deep.bin")
    uses = list(links.list_link_uses(made["id"]))
    assert [(u["outcome"], u["key"], u["bytes"]) for u in uses] == [
        ("index", "data/", 0),
        ("served", "data/sub/deep.bin", 4),
        ("used-up", "data/sub/deep.bin", 0),
    ]
    assert {u["remote"] for u in uses} == {"127.0.0.1"}


def test_an_explicit_deny_of_the_bucket_policy_binds_links_too(
    links: LinksClient, owned: str, owner: Actor
) -> None:
    made = links.create_link(owned, prefix="data/")
    deny = [
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{owned}/data/sub/*",
        },
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{owned}",
            "Condition": {"StringLike": {"s3:prefix": "data/sub/*"}},
        },
    ]
    owner.s3.put_bucket_policy(
        Bucket=owned, Policy=json.dumps({"Version": "2012-10-17", "Statement": deny})
    )
    refused = httpx.get(made["url"] + "/sub/deep.bin")
    assert refused.status_code == 403 and "denies" in refused.text
    assert httpx.get(made["url"], params={"path": "sub/"}).status_code == 403
    assert httpx.get(made["url"] + "/run%201/result.csv").content == BODY
    assert httpx.get(made["url"]).status_code == 200
    uses = [(u["outcome"], u["key"]) for u in links.list_link_uses(made["id"])]
    assert uses == [
        ("denied", "data/sub/deep.bin"),
        ("denied", "data/sub/"),
        ("served", "data/run 1/result.csv"),
        ("index", "data/"),
    ]
    owner.s3.delete_bucket_policy(Bucket=owned)
    assert httpx.get(made["url"] + "/sub/deep.bin").content == b"deep"


def test_the_token_is_stored_only_as_its_hash(
    links: LinksClient, owned: str, server: RunningServer
) -> None:
    made = links.create_link(owned, prefix="data/")
    with sqlite3.connect(server.data_dir / "metadata.db") as db:
        rows = db.execute(
            "SELECT token_hash FROM share_links WHERE id = ?", (made["id"],)
        ).fetchall()
        dump = "\n".join(db.iterdump())
    assert rows == [(hashlib.sha256(made["token"].encode()).hexdigest(),)]
    assert made["token"] not in dump
    assert "token" not in links.get_link(made["id"])
    assert httpx.get(f"{server.url}/_/s/{made['token'][:-1]}x").status_code == 404


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        ({"prefix": "data/", "key": "data/x"}, "InvalidArgument"),
        ({}, "InvalidArgument"),
        ({"prefix": "data/", "max_uses": 0}, "ValidationError"),
        ({"prefix": "data/", "max_bytes": -1}, "ValidationError"),
        ({"prefix": "data/", "expires_at": "2001-01-01T00:00:00Z"}, "InvalidArgument"),
    ],
)
def test_bad_links_are_refused_and_nothing_is_stored(
    links: LinksClient, owned: str, request_: dict[str, Any], code: str
) -> None:
    with pytest.raises(BadRequestError) as caught:
        links.create_link(owned, **request_)
    assert caught.value.code == code
    assert list(links.list_links(bucket=owned)) == []


def test_only_the_owner_may_make_or_see_links(
    server: RunningServer, links: LinksClient, owned: str
) -> None:
    made = links.create_link(owned, prefix="data/")
    stranger = add_actor(server, "stranger")
    with stranger.api(server, LinksClient) as client:
        with pytest.raises(PermissionDeniedError):
            client.create_link(owned, prefix="")
        with pytest.raises(NotFoundError):
            client.get_link(made["id"])
        with pytest.raises(NotFoundError):
            client.revoke_link(made["id"])
        assert list(client.list_links()) == []
    assert [link["id"] for link in links.list_links(bucket=owned)] == [made["id"]]
    assert links.get_link(made["id"])["state"] == "active"
