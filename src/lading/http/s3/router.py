"""Request -> S3 operation, as a pure function (garage's router.rs, minio's api-router.go).

The router names the operation and the action authorization checks; it reads nothing but the
method, the path, the query parameter names and a few headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from lading import errors
from lading.iam.policy import Action

# Sub-resources S3 knows and this server does not implement yet, by method.
_BUCKET_SUBRESOURCES = {
    "accelerate": "AccelerateConfiguration",
    "analytics": "AnalyticsConfiguration",
    "intelligent-tiering": "IntelligentTieringConfiguration",
    "inventory": "InventoryConfiguration",
    "metadataTable": "MetadataTableConfiguration",
    "metrics": "MetricsConfiguration",
    "replication": "Replication",
    "requestPayment": "RequestPayment",
    "website": "Website",
}
_OBJECT_SUBRESOURCES = {
    "torrent": "ObjectTorrent",
    "restore": "RestoreObject",
    "select": "SelectObjectContent",
}
_A = Action
# Implemented sub-resources: query parameter -> method -> (operation, action class).
_BUCKET_CONFIG: dict[str, dict[str, tuple[str, Action]]] = {
    "versioning": {
        "GET": ("GetBucketVersioning", _A.READ_BUCKET_CONFIG),
        "PUT": ("PutBucketVersioning", _A.WRITE_BUCKET_CONFIG),
    },
    "acl": {
        "GET": ("GetBucketAcl", _A.READ_BUCKET_ACP),
        "PUT": ("PutBucketAcl", _A.WRITE_BUCKET_ACP),
    },
    "cors": {
        "GET": ("GetBucketCors", _A.READ_BUCKET_CONFIG),
        "PUT": ("PutBucketCors", _A.WRITE_BUCKET_CONFIG),
        "DELETE": ("DeleteBucketCors", _A.WRITE_BUCKET_CONFIG),
    },
    "encryption": {
        "GET": ("GetBucketEncryption", _A.READ_BUCKET_CONFIG),
        "PUT": ("PutBucketEncryption", _A.WRITE_BUCKET_CONFIG),
        "DELETE": ("DeleteBucketEncryption", _A.WRITE_BUCKET_CONFIG),
    },
    "lifecycle": {
        "GET": ("GetBucketLifecycleConfiguration", _A.READ_BUCKET_CONFIG),
        "PUT": ("PutBucketLifecycleConfiguration", _A.WRITE_BUCKET_CONFIG),
        "DELETE": ("DeleteBucketLifecycle", _A.WRITE_BUCKET_CONFIG),
    },
    "notification": {
        "GET": ("GetBucketNotificationConfiguration", _A.READ_BUCKET_CONFIG),
        "PUT": ("PutBucketNotificationConfiguration", _A.WRITE_BUCKET_CONFIG),
    },
    "object-lock": {
        "GET": ("GetObjectLockConfiguration", _A.READ_BUCKET_CONFIG),
        "PUT": ("PutObjectLockConfiguration", _A.WRITE_BUCKET_CONFIG),
    },
    "ownershipControls": {
        "GET": ("GetBucketOwnershipControls", _A.READ_BUCKET_CONFIG),
        "PUT": ("PutBucketOwnershipControls", _A.WRITE_BUCKET_CONFIG),
        "DELETE": ("DeleteBucketOwnershipControls", _A.WRITE_BUCKET_CONFIG),
    },
    "policy": {
        "GET": ("GetBucketPolicy", _A.READ_BUCKET_CONFIG),
        "PUT": ("PutBucketPolicy", _A.WRITE_BUCKET_CONFIG),
        "DELETE": ("DeleteBucketPolicy", _A.WRITE_BUCKET_CONFIG),
    },
    "policyStatus": {"GET": ("GetBucketPolicyStatus", _A.READ_BUCKET_CONFIG)},
    "logging": {
        "GET": ("GetBucketLogging", _A.READ_BUCKET_CONFIG),
        "PUT": ("PutBucketLogging", _A.WRITE_BUCKET_CONFIG),
    },
    "publicAccessBlock": {
        "GET": ("GetPublicAccessBlock", _A.READ_BUCKET_CONFIG),
        "PUT": ("PutPublicAccessBlock", _A.WRITE_BUCKET_CONFIG),
        "DELETE": ("DeletePublicAccessBlock", _A.WRITE_BUCKET_CONFIG),
    },
    "tagging": {
        "GET": ("GetBucketTagging", _A.READ_BUCKET_CONFIG),
        "PUT": ("PutBucketTagging", _A.WRITE_BUCKET_CONFIG),
        "DELETE": ("DeleteBucketTagging", _A.WRITE_BUCKET_CONFIG),
    },
}
_OBJECT_CONFIG: dict[str, dict[str, tuple[str, Action]]] = {
    "attributes": {"GET": ("GetObjectAttributes", _A.READ_OBJECT)},
    "acl": {
        "GET": ("GetObjectAcl", _A.READ_OBJECT_ACP),
        "PUT": ("PutObjectAcl", _A.WRITE_OBJECT_ACP),
    },
    "tagging": {
        "GET": ("GetObjectTagging", _A.READ_OBJECT),
        "PUT": ("PutObjectTagging", _A.WRITE_OBJECT),
        "DELETE": ("DeleteObjectTagging", _A.WRITE_OBJECT),
    },
    "retention": {
        "GET": ("GetObjectRetention", _A.READ_OBJECT),
        "PUT": ("PutObjectRetention", _A.WRITE_OBJECT),
    },
    "legal-hold": {
        "GET": ("GetObjectLegalHold", _A.READ_OBJECT),
        "PUT": ("PutObjectLegalHold", _A.WRITE_OBJECT),
    },
}
SNS_OPERATION = "SnsAction"
_VERB = {"GET": "Get", "PUT": "Put", "DELETE": "Delete", "POST": "Post", "HEAD": "Get"}

# Headers that ask an implemented operation for a feature this server does not have yet.
# Ignoring them would claim what was not done (data "encrypted" with a KMS key), so such
# requests answer NotImplemented. SSE-S3 (AES256), SSE-KMS (aws:kms) and SSE-C are implemented.
_FEATURE_HEADERS = {
    "x-amz-server-side-encryption-context": "server-side encryption with a KMS encryption context",
}
# Operations that create a bucket or an object, and so take ACL, tagging and SSE headers.
_WRITES = frozenset({"CreateBucket", "PutObject", "CopyObject", "CreateMultipartUpload"})
_DATA_OPERATIONS = frozenset(
    {
        "PutObject",
        "GetObject",
        "HeadObject",
        "CopyObject",
        "CreateMultipartUpload",
        "UploadPart",
        "UploadPartCopy",
    }
)


@dataclass(frozen=True, slots=True)
class S3Op:
    """One S3 operation: its AWS name, target and the action authorization checks."""

    name: str
    action: Action
    bucket: str | None = None
    key: str | None = None
    implemented: bool = True


def split_target(raw_path: str, host: str, base_domain: str) -> tuple[str | None, str | None]:
    """(bucket, key) from a path-style or virtual-host-style request; keys are decoded."""
    path = raw_path[1:] if raw_path.startswith("/") else raw_path
    hostname = host.rsplit(":", 1)[0].lower() if host else ""
    domain = base_domain.lower()
    if domain and hostname.endswith("." + domain):
        bucket = hostname[: -len(domain) - 1]
        return bucket, (_decode(path) or None)
    if not path:
        return None, None
    bucket, _, key = path.partition("/")
    return _decode(bucket), (_decode(key) or None)


def _decode(raw: str) -> str:
    """Percent-decode a path segment as UTF-8; raises InvalidURI when that is not UTF-8.

    The path comes as its wire bytes read as Latin-1 (a server without raw_path gives text
    instead). Decoding with replacement characters would map different keys to one.
    """
    for encoding in ("latin-1", "utf-8"):
        try:
            return unquote_to_bytes(raw.encode(encoding)).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    raise errors.InvalidURI()


def _unsupported(method: str, name: str) -> S3Op:
    return S3Op(f"{_VERB.get(method, method.title())}{name}", Action.READ_BUCKET, implemented=False)


def _bucket_op(method: str, query: Mapping[str, str]) -> S3Op:
    if method == "HEAD":
        return S3Op("HeadBucket", Action.READ_BUCKET)
    if method == "GET":
        if "location" in query:
            return S3Op("GetBucketLocation", Action.READ_BUCKET)
        if "versions" in query:
            return S3Op("ListObjectVersions", Action.READ_BUCKET)
        if "uploads" in query:
            return S3Op("ListMultipartUploads", Action.READ_BUCKET)
    if method == "POST" and "delete" in query:
        return S3Op("DeleteObjects", Action.DELETE_OBJECT)
    for param, by_method in _BUCKET_CONFIG.items():
        if param in query:
            found = by_method.get(method)
            if found is None:
                raise errors.MethodNotAllowed()
            return S3Op(*found)
    for param, name in _BUCKET_SUBRESOURCES.items():
        if param in query:
            return _unsupported(method, "Bucket" + name)
    if method == "GET":
        if query.get("list-type") == "2":
            return S3Op("ListObjectsV2", Action.READ_BUCKET)
        return S3Op("ListObjects", Action.READ_BUCKET)
    if method == "PUT":
        return S3Op("CreateBucket", Action.CREATE_BUCKET)
    if method == "DELETE":
        return S3Op("DeleteBucket", Action.DELETE_BUCKET)
    if method == "POST":
        return S3Op("PostObject", Action.WRITE_OBJECT)
    raise errors.MethodNotAllowed()


def _object_op(method: str, query: Mapping[str, str], headers: Mapping[str, str]) -> S3Op:
    if "uploadId" in query:
        if method == "PUT" and "partNumber" in query:
            if "x-amz-copy-source" in headers:
                return S3Op("UploadPartCopy", Action.WRITE_OBJECT)
            return S3Op("UploadPart", Action.WRITE_OBJECT)
        if method == "GET":
            return S3Op("ListParts", Action.WRITE_OBJECT)
        if method == "POST":
            return S3Op("CompleteMultipartUpload", Action.WRITE_OBJECT)
        if method == "DELETE":
            return S3Op("AbortMultipartUpload", Action.WRITE_OBJECT)
    if method == "POST" and "uploads" in query:
        return S3Op("CreateMultipartUpload", Action.WRITE_OBJECT)
    for param, by_method in _OBJECT_CONFIG.items():
        if param in query:
            found = by_method.get(method)
            if found is None:
                raise errors.MethodNotAllowed()
            return S3Op(*found)
    for param, name in _OBJECT_SUBRESOURCES.items():
        if param in query:
            return _unsupported(method, name)
    if method == "GET":
        return S3Op("GetObject", Action.READ_OBJECT)
    if method == "HEAD":
        return S3Op("HeadObject", Action.READ_OBJECT)
    if method == "PUT":
        if "x-amz-copy-source" in headers:
            return S3Op("CopyObject", Action.WRITE_OBJECT)
        return S3Op("PutObject", Action.WRITE_OBJECT)
    if method == "DELETE":
        return S3Op("DeleteObject", Action.DELETE_OBJECT)
    raise errors.MethodNotAllowed()


def route(
    method: str,
    raw_path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    *,
    base_domain: str = "",
) -> S3Op:
    """Name the S3 operation a request asks for; raises MethodNotAllowed."""
    if method not in _VERB:
        raise errors.MethodNotAllowed()
    bucket, key = split_target(raw_path, headers.get("host", ""), base_domain)
    if bucket is None:
        if method == "GET":
            return S3Op("ListBuckets", Action.LIST_BUCKETS)
        if method == "POST":  # the SNS-compatible topic API: the action is in the form body
            return S3Op(SNS_OPERATION, Action.LIST_BUCKETS)
        raise errors.MethodNotAllowed()
    op = _bucket_op(method, query) if key is None else _object_op(method, query, headers)
    return S3Op(op.name, op.action, bucket, key, op.implemented)


def unsupported_feature(op: S3Op, headers: Mapping[str, str]) -> str | None:
    """The not-yet-implemented feature a request's headers ask of an implemented operation.

    Accepted-and-ignored would be a wrong success: the data would not be encrypted as the
    client asked.
    """
    if op.name in _WRITES:
        sse = headers.get("x-amz-server-side-encryption")
        if sse is not None and op.name == "CreateBucket":
            return f"server-side encryption {sse.strip()!r}"
    if op.name not in _DATA_OPERATIONS:
        return None
    for name, feature in _FEATURE_HEADERS.items():
        if name in headers:
            return feature
    return None
