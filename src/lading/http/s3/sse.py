"""Server-side encryption headers: what a write asks for, the keys a read sends, the echoes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lading import configs, errors
from lading.encryption import ALGORITHM, SSE_C, SSE_KMS, SSE_S3, sse_c_key
from lading.metadata.models import Bucket
from lading.services.objects import Sse

SSE_HEADER = "x-amz-server-side-encryption"
KMS_KEY_ID = "x-amz-server-side-encryption-aws-kms-key-id"
KMS = "aws:kms"
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
    kms_key = headers.get(KMS_KEY_ID)
    if kms_key is not None:
        kms_key = kms_key.strip()
    if value is not None:
        value = value.strip()
        if key is not None:
            raise errors.InvalidArgument(
                "Server Side Encryption with Customer provided key is incompatible with the "
                "encryption method specified"
            )
        if value == KMS:
            if not kms_key:
                default = configs.default_encryption(bucket.configs)
                if default is None or default[1] is None:
                    raise errors.InvalidArgument(
                        "Server Side Encryption with KMS managed key requires HTTP header "
                        "x-amz-server-side-encryption-aws-kms-key-id"
                    )
                kms_key = default[1]
            return Sse(SSE_KMS, kms_key_id=kms_key)
        if value.lower().startswith(KMS):
            raise errors.NotImplementedOperation(f"server-side encryption {value!r}")
        if value != ALGORITHM:
            raise errors.InvalidArgument("The encryption method specified is not supported")
    if kms_key is not None:
        raise errors.InvalidArgument(
            "x-amz-server-side-encryption-aws-kms-key-id is only valid with "
            "x-amz-server-side-encryption: aws:kms"
        )
    if value is not None:
        return Sse(SSE_S3)
    if key is not None:
        return Sse(SSE_C, key)
    if "encryption" in bucket.configs:
        default = configs.default_encryption(bucket.configs)
        if default is not None and default[0] == KMS:
            return Sse(SSE_KMS, kms_key_id=default[1])
        return Sse(SSE_S3)
    return None


def refuse_on_read(headers: Mapping[str, str]) -> None:
    """A read names no encryption method: S3 answers 400 to SSE-S3/SSE-KMS headers on GET."""
    if SSE_HEADER in headers or KMS_KEY_ID in headers:
        raise errors.InvalidArgument(
            "x-amz-server-side-encryption and x-amz-server-side-encryption-aws-kms-key-id are "
            "not valid on a read; objects are decrypted with the key they were stored under"
        )


def response_headers(encryption: Mapping[str, Any] | None) -> dict[str, str]:
    """The headers S3 answers about an object's (or an upload's) encryption."""
    if not encryption:
        return {}
    mode = encryption.get("mode")
    if mode == SSE_C:
        return {
            f"{CUSTOMER}algorithm": ALGORITHM,
            f"{CUSTOMER}key-md5": str(encryption.get("customer-key-md5", "")),
        }
    if mode == SSE_KMS:
        return {SSE_HEADER: KMS, KMS_KEY_ID: str(encryption.get("key-id", ""))}
    return {SSE_HEADER: ALGORITHM}
