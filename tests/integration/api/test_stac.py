"""The STAC API as pystac-client (and STAC browsers) use it: search by bbox and datetime."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pystac_client import Client

from lading.client import CatalogClient, SharesClient
from lading.testing.server import RunningServer

# (key, geometry or bbox, time attributes)
ITEMS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "scenes/paris.tif",
        {"geometry": {"type": "Point", "coordinates": [2.35, 48.85]}},
        {"datetime": {"type": "timestamp", "value": "2020-01-10T10:00:00Z"}},
    ),
    (
        "scenes/clermont.tif",
        {"bbox": [3.0, 45.7, 3.2, 45.8]},
        {"datetime": {"type": "timestamp", "value": "2020-02-10T10:00:00Z"}},
    ),
    (
        "scenes/new-york.tif",
        {"geometry": {"type": "Point", "coordinates": [-74.0, 40.7]}},
        {
            "start_datetime": {"type": "timestamp", "value": "2020-01-01T00:00:00Z"},
            "end_datetime": {"type": "timestamp", "value": "2020-03-01T00:00:00Z"},
        },
    ),
]
FRANCE = [-5.0, 41.0, 10.0, 51.5]


def public_read(bucket: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                }
            ],
        }
    )


@pytest.fixture
def scenes(server: RunningServer, bucket: str, s3: Any) -> str:
    with CatalogClient(
        server.url, access_key=server.access_key, secret_key=server.secret_key
    ) as catalog:
        for key, where, when in ITEMS:
            s3.put_object(Bucket=bucket, Key=key, Body=b"tiff", ContentType="image/tiff")
            catalog.set_attributes(bucket, key, {**where, **when, "platform": "sat-1"})
        s3.put_object(Bucket=bucket, Key="notes.txt", Body=b"no place, no time")
    return bucket


def test_pystac_client_searches_by_bbox_and_datetime(
    server: RunningServer, scenes: str, s3: Any
) -> None:
    s3.put_bucket_policy(Bucket=scenes, Policy=public_read(scenes))
    client = Client.open(f"{server.url}/_/stac/")
    assert scenes in {c.id for c in client.get_collections()}

    def ids(**query: Any) -> set[str]:
        return {item.id for item in client.search(collections=[scenes], **query).items()}

    assert ids() == {key for key, _, _ in ITEMS}  # notes.txt is no item
    assert ids(bbox=FRANCE) == {"scenes/paris.tif", "scenes/clermont.tif"}
    assert ids(datetime="2020-01-01T00:00:00Z/2020-01-31T00:00:00Z") == {
        "scenes/paris.tif",
        "scenes/new-york.tif",
    }
    assert ids(bbox=FRANCE, datetime="2020-02-01T00:00:00Z/2020-02-28T00:00:00Z") == {
        "scenes/clermont.tif"
    }
    after = "platform = 'sat-1' AND datetime > TIMESTAMP('2020-02-01T00:00:00Z')"
    assert ids(filter=after, filter_lang="cql2-text") == {"scenes/clermont.tif"}
    assert ids(method="GET", bbox=FRANCE, max_items=5, limit=1) == {
        "scenes/paris.tif",
        "scenes/clermont.tif",
    }  # one item per page, through the next links
    paris = next(client.search(collections=[scenes], bbox=[2, 48, 3, 49]).items())
    assert paris.geometry == {"type": "Point", "coordinates": [2.35, 48.85]}
    assert paris.properties["platform"] == "sat-1"
    assert httpx.get(paris.assets["data"].href).content == b"tiff"  # public: no signature
    collection = client.get_collection(scenes)
    assert collection.extent.spatial.bboxes[0] == [-74.0, 40.7, 3.2, 48.85]


def test_private_buckets_stay_out_of_anonymous_stac(server: RunningServer, scenes: str) -> None:
    client = Client.open(f"{server.url}/_/stac/")
    assert scenes not in {c.id for c in client.get_collections()}
    response = httpx.get(f"{server.url}/_/stac/search", params={"collections": scenes})
    assert response.status_code == 403
    assert response.json()["code"] == "AccessDenied"


def test_an_anonymous_share_of_a_prefix_shows_its_items_and_their_extent_alone(
    server: RunningServer, scenes: str
) -> None:
    with SharesClient(
        server.url, access_key=server.access_key, secret_key=server.secret_key
    ) as shares:
        shares.create_share(scenes, principal_type="anonymous", prefix="scenes/paris")
    client = Client.open(f"{server.url}/_/stac/")
    assert scenes in {c.id for c in client.get_collections()}
    found = client.search(collections=[scenes]).items()
    assert {item.id for item in found} == {"scenes/paris.tif"}
    assert {item.id for item in client.search(bbox=[-80, 40, -70, 41]).items()} == set()
    collection = client.get_collection(scenes)
    assert collection.extent.spatial.bboxes[0] == [2.35, 48.85, 2.35, 48.85]


def test_a_deny_keeps_its_items_out_of_the_collection_extent(
    server: RunningServer, scenes: str, s3: Any
) -> None:
    """The extent of a collection used to span items a Deny of its policy hides."""
    policy = json.loads(public_read(scenes))
    hidden = f"arn:aws:s3:::{scenes}/scenes/new-york.tif"
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": hidden}
    policy["Statement"].append(deny)
    s3.put_bucket_policy(Bucket=scenes, Policy=json.dumps(policy))
    client = Client.open(f"{server.url}/_/stac/")
    found = {item.id for item in client.search(collections=[scenes]).items()}
    assert found == {"scenes/paris.tif", "scenes/clermont.tif"}
    extent = client.get_collection(scenes).extent
    assert extent.spatial.bboxes[0] == [2.35, 45.7, 3.2, 48.85]
    start, end = extent.temporal.intervals[0]
    assert (start.isoformat(), end.isoformat()) == (
        "2020-01-10T10:00:00+00:00",
        "2020-02-10T10:00:00+00:00",
    )


def test_bad_stac_queries_are_clear(server: RunningServer, scenes: str, s3: Any) -> None:
    s3.put_bucket_policy(Bucket=scenes, Policy=public_read(scenes))
    for params, words in (
        ({"bbox": "1,2,x,4"}, "bbox"),
        ({"datetime": "yesterday"}, "RFC 3339"),
        ({"filter": "platform = "}, "CQL2"),
    ):
        response = httpx.get(
            f"{server.url}/_/stac/search", params={"collections": scenes, **params}
        )
        assert response.status_code == 400, params
        assert words in response.json()["detail"]
