"""The S3 router as a table: (method, path, query, headers) -> operation, bucket, key, action."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from lading import errors
from lading.http.s3.router import S3Op, route, split_target
from lading.iam.policy import Action

BASE = "s3.example.com"
NOTHING: Mapping[str, str] = {}
COPY = {"x-amz-copy-source": "/src/key"}


def vhost(bucket: str) -> dict[str, str]:
    return {"host": f"{bucket}.{BASE}:9000"}


def case(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    expected: S3Op,
    *,
    id: str,
) -> object:
    return pytest.param(method, path, query, headers, expected, id=id)


ROUTES = [
    # service
    case("GET", "/", NOTHING, NOTHING, S3Op("ListBuckets", Action.LIST_BUCKETS), id="list-buckets"),
    case("GET", "", NOTHING, NOTHING, S3Op("ListBuckets", Action.LIST_BUCKETS), id="empty-path"),
    case("POST", "/", NOTHING, NOTHING, S3Op("SnsAction", Action.LIST_BUCKETS), id="sns-topics"),
    case(
        "PUT",
        "/b",
        {"notification": ""},
        NOTHING,
        S3Op("PutBucketNotificationConfiguration", Action.WRITE_BUCKET_CONFIG, "b"),
        id="put-notification",
    ),
    case(
        "GET",
        "/b",
        {"notification": ""},
        NOTHING,
        S3Op("GetBucketNotificationConfiguration", Action.READ_BUCKET_CONFIG, "b"),
        id="get-notification",
    ),
    # buckets, path style
    case(
        "PUT",
        "/b",
        NOTHING,
        NOTHING,
        S3Op("CreateBucket", Action.CREATE_BUCKET, "b"),
        id="create-bucket",
    ),
    case(
        "PUT",
        "/b/",
        NOTHING,
        NOTHING,
        S3Op("CreateBucket", Action.CREATE_BUCKET, "b"),
        id="create-bucket-trailing-slash",
    ),
    case(
        "DELETE",
        "/b",
        NOTHING,
        NOTHING,
        S3Op("DeleteBucket", Action.DELETE_BUCKET, "b"),
        id="delete-bucket",
    ),
    case("HEAD", "/b", NOTHING, NOTHING, S3Op("HeadBucket", Action.READ_BUCKET, "b"), id="head"),
    case(
        "HEAD",
        "/b",
        {"acl": ""},
        NOTHING,
        S3Op("HeadBucket", Action.READ_BUCKET, "b"),
        id="head-bucket-ignores-subresources",
    ),
    case("GET", "/b", NOTHING, NOTHING, S3Op("ListObjects", Action.READ_BUCKET, "b"), id="list"),
    case(
        "GET",
        "/b",
        {"list-type": "2", "prefix": "a/", "delimiter": "/"},
        NOTHING,
        S3Op("ListObjectsV2", Action.READ_BUCKET, "b"),
        id="list-v2",
    ),
    case(
        "GET",
        "/b",
        {"list-type": "1"},
        NOTHING,
        S3Op("ListObjects", Action.READ_BUCKET, "b"),
        id="list-type-1",
    ),
    case(
        "GET",
        "/b",
        {"versions": "", "key-marker": "k"},
        NOTHING,
        S3Op("ListObjectVersions", Action.READ_BUCKET, "b"),
        id="list-versions",
    ),
    case(
        "GET",
        "/b",
        {"uploads": ""},
        NOTHING,
        S3Op("ListMultipartUploads", Action.READ_BUCKET, "b"),
        id="list-uploads",
    ),
    case(
        "GET",
        "/b",
        {"location": ""},
        NOTHING,
        S3Op("GetBucketLocation", Action.READ_BUCKET, "b"),
        id="location",
    ),
    case(
        "POST",
        "/b",
        {"delete": ""},
        NOTHING,
        S3Op("DeleteObjects", Action.DELETE_OBJECT, "b"),
        id="delete-objects",
    ),
    # bucket sub-resources
    case(
        "GET",
        "/b",
        {"versioning": ""},
        NOTHING,
        S3Op("GetBucketVersioning", Action.READ_BUCKET_CONFIG, "b"),
        id="get-versioning",
    ),
    case(
        "PUT",
        "/b",
        {"versioning": ""},
        NOTHING,
        S3Op("PutBucketVersioning", Action.WRITE_BUCKET_CONFIG, "b"),
        id="put-versioning",
    ),
    case(
        "DELETE",
        "/b",
        {"cors": ""},
        NOTHING,
        S3Op("DeleteBucketCors", Action.WRITE_BUCKET_CONFIG, "b"),
        id="delete-cors",
    ),
    case(
        "PUT",
        "/b",
        {"tagging": ""},
        NOTHING,
        S3Op("PutBucketTagging", Action.WRITE_BUCKET_CONFIG, "b"),
        id="put-bucket-tagging",
    ),
    case(
        "GET",
        "/b",
        {"policy": ""},
        NOTHING,
        S3Op("GetBucketPolicy", Action.READ_BUCKET_CONFIG, "b"),
        id="get-policy",
    ),
    case(
        "GET",
        "/b",
        {"object-lock": ""},
        NOTHING,
        S3Op("GetObjectLockConfiguration", Action.READ_BUCKET_CONFIG, "b"),
        id="get-object-lock",
    ),
    case(
        "POST",
        "/b",
        NOTHING,
        {"content-type": "multipart/form-data; boundary=x"},
        S3Op("PostObject", Action.WRITE_OBJECT, "b"),
        id="post-object-form",
    ),
    # objects, path style
    case(
        "GET",
        "/b/k",
        NOTHING,
        NOTHING,
        S3Op("GetObject", Action.READ_OBJECT, "b", "k"),
        id="get-object",
    ),
    case(
        "GET",
        "/b/k",
        {"versionId": "v1", "partNumber": "2"},
        NOTHING,
        S3Op("GetObject", Action.READ_OBJECT, "b", "k"),
        id="get-object-version-part",
    ),
    case(
        "HEAD",
        "/b/k",
        NOTHING,
        NOTHING,
        S3Op("HeadObject", Action.READ_OBJECT, "b", "k"),
        id="head-object",
    ),
    case(
        "PUT",
        "/b/k",
        NOTHING,
        NOTHING,
        S3Op("PutObject", Action.WRITE_OBJECT, "b", "k"),
        id="put-object",
    ),
    case(
        "PUT",
        "/b/k",
        NOTHING,
        COPY,
        S3Op("CopyObject", Action.WRITE_OBJECT, "b", "k"),
        id="copy-object",
    ),
    case(
        "DELETE",
        "/b/k",
        {"versionId": "v1"},
        NOTHING,
        S3Op("DeleteObject", Action.DELETE_OBJECT, "b", "k"),
        id="delete-object",
    ),
    # multipart
    case(
        "POST",
        "/b/k",
        {"uploads": ""},
        NOTHING,
        S3Op("CreateMultipartUpload", Action.WRITE_OBJECT, "b", "k"),
        id="create-upload",
    ),
    case(
        "PUT",
        "/b/k",
        {"partNumber": "1", "uploadId": "u"},
        NOTHING,
        S3Op("UploadPart", Action.WRITE_OBJECT, "b", "k"),
        id="upload-part",
    ),
    case(
        "PUT",
        "/b/k",
        {"partNumber": "1", "uploadId": "u"},
        COPY,
        S3Op("UploadPartCopy", Action.WRITE_OBJECT, "b", "k"),
        id="upload-part-copy",
    ),
    case(
        "GET",
        "/b/k",
        {"uploadId": "u"},
        NOTHING,
        S3Op("ListParts", Action.WRITE_OBJECT, "b", "k"),
        id="list-parts",
    ),
    case(
        "POST",
        "/b/k",
        {"uploadId": "u"},
        NOTHING,
        S3Op("CompleteMultipartUpload", Action.WRITE_OBJECT, "b", "k"),
        id="complete-upload",
    ),
    case(
        "DELETE",
        "/b/k",
        {"uploadId": "u"},
        NOTHING,
        S3Op("AbortMultipartUpload", Action.WRITE_OBJECT, "b", "k"),
        id="abort-upload",
    ),
    # object sub-resources
    case(
        "GET",
        "/b/k",
        {"acl": ""},
        NOTHING,
        S3Op("GetObjectAcl", Action.READ_OBJECT_ACP, "b", "k"),
        id="get-object-acl",
    ),
    case(
        "PUT",
        "/b/k",
        {"tagging": ""},
        NOTHING,
        S3Op("PutObjectTagging", Action.WRITE_OBJECT, "b", "k"),
        id="put-object-tagging",
    ),
    case(
        "DELETE",
        "/b/k",
        {"tagging": ""},
        NOTHING,
        S3Op("DeleteObjectTagging", Action.WRITE_OBJECT, "b", "k"),
        id="delete-object-tagging",
    ),
    case(
        "GET",
        "/b/k",
        {"attributes": ""},
        {"x-amz-object-attributes": "ETag"},
        S3Op("GetObjectAttributes", Action.READ_BUCKET, "b", "k", implemented=False),
        id="get-object-attributes",
    ),
    case(
        "POST",
        "/b/k",
        {"restore": ""},
        NOTHING,
        S3Op("PostRestoreObject", Action.READ_BUCKET, "b", "k", implemented=False),
        id="restore-object",
    ),
    case(
        "POST",
        "/b/k",
        {"select": "", "select-type": "2"},
        NOTHING,
        S3Op("PostSelectObjectContent", Action.READ_BUCKET, "b", "k", implemented=False),
        id="select-object-content",
    ),
    # keys are percent-decoded; slashes, spaces and non-ASCII survive
    case(
        "GET",
        "/b/a%2Fb%20c",
        NOTHING,
        NOTHING,
        S3Op("GetObject", Action.READ_OBJECT, "b", "a/b c"),
        id="encoded-slash-and-space",
    ),
    case(
        "GET",
        "/b/dir/sub/file.txt",
        NOTHING,
        NOTHING,
        S3Op("GetObject", Action.READ_OBJECT, "b", "dir/sub/file.txt"),
        id="nested-key",
    ),
    case(
        "PUT",
        "/b/dir/",
        NOTHING,
        NOTHING,
        S3Op("PutObject", Action.WRITE_OBJECT, "b", "dir/"),
        id="folder-marker-key",
    ),
    case(
        "GET",
        "/b//leading-slash",
        NOTHING,
        NOTHING,
        S3Op("GetObject", Action.READ_OBJECT, "b", "/leading-slash"),
        id="key-with-leading-slash",
    ),
    case(
        "GET",
        "/b/%F0%9F%A6%80%20%C3%BC",
        NOTHING,
        NOTHING,
        S3Op("GetObject", Action.READ_OBJECT, "b", "🦀 ü"),
        id="utf8-key",
    ),
    case(
        "GET",
        "/b/a+b%2Bc%25",
        NOTHING,
        NOTHING,
        S3Op("GetObject", Action.READ_OBJECT, "b", "a+b+c%"),
        id="plus-is-literal",
    ),
    case(
        "GET",
        "/b/%3F%23%26",
        NOTHING,
        NOTHING,
        S3Op("GetObject", Action.READ_OBJECT, "b", "?#&"),
        id="reserved-characters",
    ),
    # virtual-host style
    case(
        "GET",
        "/",
        NOTHING,
        vhost("b"),
        S3Op("ListObjects", Action.READ_BUCKET, "b"),
        id="vhost-list",
    ),
    case(
        "PUT",
        "/",
        NOTHING,
        vhost("b"),
        S3Op("CreateBucket", Action.CREATE_BUCKET, "b"),
        id="vhost-create-bucket",
    ),
    case(
        "GET",
        "/",
        {"list-type": "2"},
        {"host": f"my.dotted.bucket.{BASE}"},
        S3Op("ListObjectsV2", Action.READ_BUCKET, "my.dotted.bucket"),
        id="vhost-dotted-bucket-without-port",
    ),
    case(
        "GET",
        "/k",
        NOTHING,
        vhost("b"),
        S3Op("GetObject", Action.READ_OBJECT, "b", "k"),
        id="vhost-get-object",
    ),
    case(
        "PUT",
        "/a%2Fb%20c/d",
        NOTHING,
        vhost("b"),
        S3Op("PutObject", Action.WRITE_OBJECT, "b", "a/b c/d"),
        id="vhost-encoded-key",
    ),
    case(
        "GET",
        "/b/k",
        NOTHING,
        {"host": "B.S3.EXAMPLE.COM"},
        S3Op("GetObject", Action.READ_OBJECT, "b", "b/k"),
        id="vhost-host-is-case-insensitive",
    ),
    case(
        "POST",
        "/k",
        {"uploads": ""},
        vhost("b"),
        S3Op("CreateMultipartUpload", Action.WRITE_OBJECT, "b", "k"),
        id="vhost-create-upload",
    ),
    case(
        "GET",
        "/b/k",
        NOTHING,
        {"host": f"{BASE}:9000"},
        S3Op("GetObject", Action.READ_OBJECT, "b", "k"),
        id="base-domain-itself-is-path-style",
    ),
    case(
        "GET",
        "/b/k",
        NOTHING,
        {"host": "b.elsewhere.org"},
        S3Op("GetObject", Action.READ_OBJECT, "b", "k"),
        id="other-domain-is-path-style",
    ),
    case(
        "GET",
        "/b/k",
        NOTHING,
        {"host": f"b.not{BASE}"},
        S3Op("GetObject", Action.READ_OBJECT, "b", "k"),
        id="domain-suffix-without-dot-is-path-style",
    ),
]


@pytest.mark.parametrize(("method", "path", "query", "headers", "expected"), ROUTES)
def test_route_names_operation_target_and_action(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    expected: S3Op,
) -> None:
    assert route(method, path, query, headers, base_domain=BASE) == expected


@pytest.mark.parametrize(
    ("method", "path", "query", "headers"),
    [
        pytest.param("PUT", "/", NOTHING, NOTHING, id="put-service"),
        pytest.param("DELETE", "/", NOTHING, NOTHING, id="delete-service"),
        pytest.param("DELETE", "/b", {"notification": ""}, NOTHING, id="delete-notification"),
        pytest.param("HEAD", "/", NOTHING, NOTHING, id="head-service"),
        pytest.param("PATCH", "/b", NOTHING, NOTHING, id="patch-bucket"),
        pytest.param("OPTIONS", "/b", NOTHING, NOTHING, id="options-bucket"),
        pytest.param("POST", "/b/k", NOTHING, NOTHING, id="post-object-without-query"),
        pytest.param("PATCH", "/b/k", NOTHING, NOTHING, id="patch-object"),
        pytest.param("OPTIONS", "/b/k", NOTHING, NOTHING, id="options-object"),
        pytest.param("PUT", "/", NOTHING, {"host": BASE}, id="put-base-domain"),
    ],
)
def test_route_rejects_methods_a_resource_does_not_have(
    method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str]
) -> None:
    with pytest.raises(errors.MethodNotAllowed):
        route(method, path, query, headers, base_domain=BASE)


@pytest.mark.parametrize(
    ("path", "query"),
    [
        pytest.param("/b", {"acl": ""}, id="bucket"),
        pytest.param("/b/k", {"tagging": ""}, id="object"),
    ],
)
def test_route_rejects_unknown_methods_on_sub_resources(
    path: str, query: Mapping[str, str]
) -> None:
    with pytest.raises(errors.MethodNotAllowed):
        route("PATCH", path, query, NOTHING, base_domain=BASE)


def test_virtual_host_matches_a_base_domain_configured_in_capitals() -> None:
    op = route("GET", "/k", NOTHING, {"host": "b.s3.example.com"}, base_domain="S3.Example.com")
    assert (op.bucket, op.key) == ("b", "k")


@pytest.mark.parametrize(
    ("path", "host", "base_domain", "target"),
    [
        ("/", "", "", (None, None)),
        ("/b", "", "", ("b", None)),
        ("/b/", "", "", ("b", None)),
        ("/b/k/", "", "", ("b", "k/")),
        ("/b%2Dx/k", "", "", ("b-x", "k")),
        ("/", "b.s3.local", "s3.local", ("b", None)),
        ("/k%20k", "b.s3.local:80", "s3.local", ("b", "k k")),
        ("/b/k", "b.s3.local", "", ("b", "k")),  # virtual hosts off: always path style
    ],
)
def test_split_target_reads_bucket_and_decoded_key(
    path: str, host: str, base_domain: str, target: tuple[str | None, str | None]
) -> None:
    assert split_target(path, host, base_domain) == target


def test_route_without_base_domain_ignores_the_host() -> None:
    op = route("GET", "/b/k", NOTHING, {"host": f"x.{BASE}"})
    assert (op.name, op.bucket, op.key) == ("GetObject", "b", "k")
