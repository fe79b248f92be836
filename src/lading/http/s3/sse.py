"""Server-side encryption headers: what a write asks for, the keys a read sends, the echoes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lading import errors
from lading.encryption import ALGORITHM, SSE_C, SSE_S3, sse_c_key
from lading.metadata.models import Bucket
from lading.services.objects import Sse

SSE_HEADER = "x-amz-server-side-encryption"
CUSTOMER = "x-amz-server-side-encryption-customer-"
COPY_SOURCE_CUSTOMER = "x-amz-copy-source-server-side-encryption-customer-"


def customer_key(headers: Mapping[str, str], prefix: str = CUSTOMER) -> bytes | None:
    """The SSE-C key the request's headers carry (validated), or None when it sends none."""
    values = [headers.get(f"{prefix}{name}") for name in ("algorithm", "key", "key-md5")]
    if all(value is None for value in values):
        return None
    return sse_c_key(*values)


def requested(headers: Mapping[str, str], bucket: Bucket) -> Sse | None:
    """The encryption a write asks for: its headers, else the bucket's default."""
    value = headers.get(SSE_HEADER)
    key = customer_key(headers)
    if value is not None:
        value = value.strip()
        if value.lower().startswith("aws:kms"):
            raise errors.NotImplementedOperation(f"server-side encryption {value!r}")
        if value != ALGORITHM:
            raise errors.InvalidArgument("The encryption method specified is not supported")
        if key is not None:
            raise errors.InvalidArgument(
                "Server Side Encryption with Customer provided key is incompatible with the "
                "encryption method specified"
            )
        return Sse(SSE_S3)
    if key is not None:
        return Sse(SSE_C, key)
    if "encryption" in bucket.configs:  # PutBucketEncryption accepts AES256 only
        return Sse(SSE_S3)
    return None


def response_headers(encryption: Mapping[str, Any] | None) -> dict[str, str]:
    """The headers S3 answers about an object's (or an upload's) encryption."""
    if not encryption:
        return {}
    if encryption.get("mode") == SSE_C:
        return {
            f"{CUSTOMER}algorithm": ALGORITHM,
            f"{CUSTOMER}key-md5": str(encryption.get("customer-key-md5", "")),
        }
    return {SSE_HEADER: ALGORITHM}
