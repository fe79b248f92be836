"""Server access-log records in AWS's format (26 fields, as s3-tests and AWS tools parse them)."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime

import pytest

from lading.services.access_logs import log_line, operation_field
from lading.services.audit import RequestRecord


def parse(line: str) -> list[str]:
    """How AWS's documentation (and ceph/s3-tests) split a record."""
    return shlex.split(line.replace("[", '"').replace("]", '"'))


def test_a_record_has_the_26_fields_of_aws_in_order() -> None:
    record = RequestRecord(
        at=datetime(2019, 2, 6, 0, 0, 38, tzinfo=UTC),
        api="s3",
        request_id="3E57427F3EXAMPLE",
        method="GET",
        operation="GetObject",
        user="alice",
        access_key="LADKEY",
        client="192.0.2.3",
        status=200,
        bucket="awsexamplebucket1",
        key="photos/2019/a b.jpg",
        request_uri="GET /awsexamplebucket1/photos/2019/a%20b.jpg HTTP/1.1",
        bytes_sent=113,
        object_size=113,
        total_ms=7,
        user_agent='S3Console/0.4 "quoted"',
        host="awsexamplebucket1.s3.us-west-1.amazonaws.com",
        auth_type="AuthHeader",
        signature="SigV4",
    )
    fields = parse(log_line(record, "awsexamplebucket1", "owner"))
    assert len(fields) == 26
    assert fields[:10] == [
        "owner",
        "awsexamplebucket1",
        "06/Feb/2019:00:00:38 +0000",
        "192.0.2.3",
        "alice",
        "3E57427F3EXAMPLE",
        "REST.GET.OBJECT",
        "photos/2019/a%20b.jpg",
        "GET /awsexamplebucket1/photos/2019/a%20b.jpg HTTP/1.1",
        "200",
    ]
    assert fields[10:14] == ["-", "113", "113", "7"]
    assert fields[16] == "S3Console/0.4 %22quoted%22"
    assert fields[19:23] == ["SigV4", "-", "AuthHeader", record.host]


def test_an_anonymous_failed_request_has_dashes() -> None:
    record = RequestRecord(
        at=datetime(2027, 1, 1, tzinfo=UTC),
        api="s3",
        request_id="R",
        method="PUT",
        operation="PutObject",
        user="",
        access_key="",
        client="10.0.0.1",
        status=403,
        code="AccessDenied",
        bucket="b",
        key="k",
    )
    fields = parse(log_line(record, "b", "owner"))
    assert len(fields) == 26
    assert fields[4] == "-" and fields[10] == "AccessDenied" and fields[11] == "-"
    assert fields[19] == "-" and fields[21] == "-"


@pytest.mark.parametrize(
    ("operation", "method", "expected"),
    [
        ("PutObject", "PUT", "REST.PUT.OBJECT"),
        ("ListObjectsV2", "GET", "REST.GET.BUCKET"),
        ("CompleteMultipartUpload", "POST", "REST.POST.UPLOAD"),
        ("GetBucketVersioning", "GET", "REST.GET.VERSIONING"),
        ("PutBucketLifecycleConfiguration", "PUT", "REST.PUT.LIFECYCLECONFIGURATION"),
    ],
)
def test_operation_names(operation: str, method: str, expected: str) -> None:
    assert operation_field(operation, method) == expected
