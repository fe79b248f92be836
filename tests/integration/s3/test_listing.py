"""Listings through real boto3: v1, v2, versions; prefixes, delimiters, paging, encoding."""

from __future__ import annotations

from typing import Any

import pytest

KEYS = sorted(
    [
        "a/1",
        "a/2",
        "a/b/3",
        "a-dash",
        "a0",
        "b/1",
        "b/2/x",
        "c",
        "d e/f",
        "ü/1",
        "🦀",
    ]
)


@pytest.fixture
def filled(s3: Any, bucket: str) -> str:
    for key in KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return bucket


def test_v2_lists_everything_in_key_order(s3: Any, filled: str) -> None:
    result = s3.list_objects_v2(Bucket=filled)
    assert [o["Key"] for o in result["Contents"]] == KEYS
    assert result["KeyCount"] == len(KEYS)
    assert result["IsTruncated"] is False


def test_v2_delimiter_rolls_up_common_prefixes(s3: Any, filled: str) -> None:
    result = s3.list_objects_v2(Bucket=filled, Delimiter="/")
    assert [o["Key"] for o in result["Contents"]] == ["a-dash", "a0", "c", "🦀"]
    assert [p["Prefix"] for p in result["CommonPrefixes"]] == ["a/", "b/", "d e/", "ü/"]


def test_v2_prefix_and_delimiter(s3: Any, filled: str) -> None:
    result = s3.list_objects_v2(Bucket=filled, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in result["Contents"]] == ["a/1", "a/2"]
    assert [p["Prefix"] for p in result["CommonPrefixes"]] == ["a/b/"]


@pytest.mark.parametrize("delimiter", ["", "/"])
@pytest.mark.parametrize("page_size", [1, 2, 3])
def test_v2_paging_returns_each_entry_once(
    s3: Any, filled: str, delimiter: str, page_size: int
) -> None:
    whole = s3.list_objects_v2(Bucket=filled, Delimiter=delimiter)
    expected = [o["Key"] for o in whole.get("Contents", [])] + [
        p["Prefix"] for p in whole.get("CommonPrefixes", [])
    ]
    seen: list[str] = []
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(
        Bucket=filled, Delimiter=delimiter, PaginationConfig={"PageSize": page_size}
    ):
        assert page["KeyCount"] <= page_size
        seen += [o["Key"] for o in page.get("Contents", [])]
        seen += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    assert sorted(seen) == sorted(expected)


def test_v2_start_after(s3: Any, filled: str) -> None:
    result = s3.list_objects_v2(Bucket=filled, StartAfter="b/2/x")
    assert [o["Key"] for o in result["Contents"]] == ["c", "d e/f", "ü/1", "🦀"]


def test_v2_fetch_owner(s3: Any, filled: str) -> None:
    without = s3.list_objects_v2(Bucket=filled, MaxKeys=1)["Contents"][0]
    assert "Owner" not in without
    owned = s3.list_objects_v2(Bucket=filled, MaxKeys=1, FetchOwner=True)["Contents"][0]
    assert owned["Owner"]["ID"] == "root"


@pytest.mark.parametrize("delimiter", ["", "/"])
def test_v1_paging_with_markers(s3: Any, filled: str, delimiter: str) -> None:
    seen: list[str] = []
    for page in s3.get_paginator("list_objects").paginate(
        Bucket=filled, Delimiter=delimiter, PaginationConfig={"PageSize": 2}
    ):
        seen += [o["Key"] for o in page.get("Contents", [])]
        seen += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    whole = s3.list_objects(Bucket=filled, Delimiter=delimiter)
    expected = [o["Key"] for o in whole.get("Contents", [])] + [
        p["Prefix"] for p in whole.get("CommonPrefixes", [])
    ]
    assert sorted(seen) == sorted(expected)


def test_encoding_type_url_carries_awkward_keys(s3: Any, bucket: str) -> None:
    awkward = "line\nbreak & <tag> %20 +plus"
    s3.put_object(Bucket=bucket, Key=awkward, Body=b"x")
    # boto3 asks for encoding-type=url itself and decodes the answer
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [awkward]
    assert [o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"]] == [awkward]


def test_max_keys_zero_and_invalid(s3: Any, filled: str) -> None:
    from botocore.exceptions import ClientError

    empty = s3.list_objects_v2(Bucket=filled, MaxKeys=0)
    # an empty page is a complete one, as AWS answers (ceph/s3-tests checks it too)
    assert "Contents" not in empty and empty["IsTruncated"] is False
    with pytest.raises(ClientError) as exc:
        s3.list_objects_v2(Bucket=filled, MaxKeys=-1)
    assert exc.value.response["Error"]["Code"] == "InvalidArgument"


def test_list_object_versions_reports_null_versions_and_pages(s3: Any, filled: str) -> None:
    seen = []
    for page in s3.get_paginator("list_object_versions").paginate(
        Bucket=filled, PaginationConfig={"PageSize": 3}
    ):
        for version in page.get("Versions", []):
            assert version["VersionId"] == "null"
            assert version["IsLatest"] is True
            seen.append(version["Key"])
    assert seen == KEYS


def test_list_object_versions_with_delimiter(s3: Any, filled: str) -> None:
    result = s3.list_object_versions(Bucket=filled, Delimiter="/", Prefix="b/")
    assert [v["Key"] for v in result["Versions"]] == ["b/1"]
    assert [p["Prefix"] for p in result["CommonPrefixes"]] == ["b/2/"]
