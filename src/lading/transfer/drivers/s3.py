"""Any S3 endpoint (this server included) through boto3: multipart, ranges, server-side copy.

boto3's own retries are off (one attempt): the engine's retry policy decides, and counts,
every retry. Parts carry Content-MD5, so the server checks every part it receives; a single
write is streamed (its MD5 is known only once the last byte is sent), and the ETag the server
returns is compared with the MD5 the engine computed from the source's bytes as they passed.
The payload is not SHA-256 signed (UNSIGNED-PAYLOAD, as over HTTPS): those MD5 checks guard
the bytes, and botocore would otherwise read every body twice, the second time to hash it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from lading.transfer.drivers.base import (
    DriverFeatures,
    EndpointDriver,
    Entry,
    Part,
    check_path,
    join,
)
from lading.transfer.errors import (
    ChecksumMismatch,
    EndpointAccessDenied,
    EndpointUnavailable,
    Fatal,
    NoSuchContainer,
    NoSuchPath,
    QuotaExceeded,
    TransferFailure,
)

_CHUNK = 1 << 20
MAX_COPY_OBJECT = 5 * 1024**3  # larger server-side copies go part by part
_COPY_PART = 1024**3
_RETRYABLE_CODES = {
    "SlowDown",
    "InternalError",
    "ServiceUnavailable",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "Throttling",
    "ThrottlingException",
    "TooManyRequests",
}
_DENIED_CODES = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AllAccessDisabled",
    "AccountProblem",
}


def _status(exc: Any) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


@contextlib.contextmanager
def translate_errors(bucket: str, key: str) -> Iterator[None]:
    """botocore and connection errors -> transfer errors (retryable or fatal)."""
    import botocore.exceptions as bex  # type: ignore[import-untyped]
    import urllib3.exceptions as uex

    try:
        yield
    except TransferFailure:
        raise
    except bex.ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = _status(exc)
        where = f"s3://{bucket}/{key}"
        if code == "NoSuchBucket":
            raise NoSuchContainer(bucket) from exc
        if code in ("NoSuchKey", "NoSuchUpload", "NotFound") or status == 404:
            raise NoSuchPath(key) from exc
        if code in _DENIED_CODES or status == 403:
            raise EndpointAccessDenied(f"{where}: access denied ({code or status})") from exc
        if code in ("BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"):
            raise ChecksumMismatch(key, "sent", f"received ({code})") from exc
        if code in ("QuotaExceeded", "EntityTooLarge"):
            raise QuotaExceeded(f"{where}: {code}") from exc
        if code in _RETRYABLE_CODES or status >= 500 or status == 429:
            raise EndpointUnavailable(f"{where}: {code or status}", status) from exc
        raise Fatal(f"{where}: {code or status} {exc}") from exc
    except (bex.NoCredentialsError, bex.PartialCredentialsError) as exc:
        raise EndpointAccessDenied(f"s3://{bucket}: {exc}") from exc
    except (
        bex.EndpointConnectionError,
        bex.ConnectionClosedError,
        bex.ReadTimeoutError,
        bex.ConnectTimeoutError,
        bex.IncompleteReadError,
        bex.ResponseStreamingError,
        bex.HTTPClientError,
        uex.HTTPError,
        ConnectionError,
        TimeoutError,
    ) as exc:
        raise EndpointUnavailable(f"s3://{bucket}/{key}: {exc}") from exc


def make_client(
    endpoint_url: str | None,
    *,
    access_key: str | None = None,
    secret_key: str | None = None,
    region: str | None = None,
    addressing_style: str = "path",
    max_connections: int = 32,
    timeout: float = 60.0,
) -> Any:
    """A boto3 S3 client with retries left to the engine (credentials: given or AWS's chain)."""
    import botocore.session  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    # botocore itself, not boto3: the same client and credential chain without importing
    # boto3's resources and s3transfer, which a short CLI run would pay for at every start
    session = botocore.session.get_session()
    return session.create_client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(
            retries={"max_attempts": 1, "mode": "standard"},
            s3={"addressing_style": addressing_style, "payload_signing_enabled": False},
            max_pool_connections=max_connections,
            connect_timeout=timeout,
            read_timeout=timeout,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            region_name=region or "us-east-1",
        ),
    )


def _checksum(etag: str) -> str:
    etag = etag.strip('"')
    return f"etag:{etag}" if "-" in etag else f"md5:{etag}"


class ChunkReader:
    """Chunks as the file object an HTTP body is read from: `read(n)` hands out slices of the
    chunk at hand, so memory holds one chunk however large the body is."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._chunk = memoryview(b"")
        self._at = 0
        self._given = 0

    def tell(self) -> int:
        return self._given

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Only to where the stream is (botocore's signer asks); it cannot go back."""
        if (whence == io.SEEK_CUR and offset == 0) or (
            whence == io.SEEK_SET and offset == self._given
        ):
            return self._given
        raise io.UnsupportedOperation("a streamed body cannot seek")

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            rest = b"".join([bytes(self._chunk[self._at :]), *self._chunks])
            self._chunk, self._at = memoryview(b""), 0
            self._given += len(rest)
            return rest
        while self._at >= len(self._chunk):
            following = next(self._chunks, None)
            if following is None:
                return b""
            self._chunk, self._at = memoryview(following), 0
        piece = self._chunk[self._at : self._at + size]
        self._at += len(piece)
        self._given += len(piece)
        return bytes(piece)


@dataclass
class S3Driver:
    """Objects of `bucket` under `prefix` (a key prefix treated as a directory)."""

    client: Any
    bucket: str
    prefix: str = ""
    endpoint_url: str = ""
    features: DriverFeatures = field(
        default_factory=lambda: DriverFeatures(
            server_side_copy=True,
            multipart=True,
            native_checksum=True,
            min_part_size=5 * 1024 * 1024,
        )
    )

    def __post_init__(self) -> None:
        self.prefix = check_path(self.prefix, allow_root=True)

    @property
    def identity(self) -> str:
        return f"s3:{self.endpoint_url}:{self.bucket}"

    def _key(self, path: str, *, allow_root: bool = False) -> str:
        return join(self.prefix, check_path(path, allow_root=allow_root))

    def _entry(self, key: str, size: int, mtime: Any, etag: str) -> Entry:
        rel = key[len(self.prefix) + 1 :] if self.prefix else key
        return Entry(rel, int(size), mtime.timestamp(), _checksum(etag))

    # --- reading ---------------------------------------------------------------------------

    def list(self, path: str = "") -> Iterator[Entry]:
        base = self._key(path, allow_root=True)
        prefix = base + "/" if base else ""
        token: str | None = None
        while True:
            args: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix, "MaxKeys": 1000}
            if token:
                args["ContinuationToken"] = token
            with translate_errors(self.bucket, prefix):
                page = self.client.list_objects_v2(**args)
            for obj in page.get("Contents", ()):
                if not obj["Key"].endswith("/"):  # directory markers hold no data
                    yield self._entry(obj["Key"], obj["Size"], obj["LastModified"], obj["ETag"])
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    def stat(self, path: str) -> Entry:
        key = self._key(path)
        with translate_errors(self.bucket, key):
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        return self._entry(key, head["ContentLength"], head["LastModified"], head["ETag"])

    def open_read(self, path: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        key = self._key(path)
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if length == 0:
            return iter([b""])
        if start or length is not None:
            end = "" if length is None else str(start + length - 1)
            args["Range"] = f"bytes={start}-{end}"
        with translate_errors(self.bucket, key):
            body = self.client.get_object(**args)["Body"]
        return self._stream(body, key)

    def _stream(self, body: Any, key: str) -> Iterator[bytes]:
        with contextlib.closing(body), translate_errors(self.bucket, key):
            yield from body.iter_chunks(_CHUNK)

    # --- writing ---------------------------------------------------------------------------

    def write(
        self, path: str, chunks: Iterable[bytes], *, size: int, mtime: float | None = None
    ) -> Entry:
        """One streamed PUT of `size` bytes; the caller compares the ETag with its MD5."""
        key = self._key(path)
        args: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "Body": ChunkReader(chunks),
            "ContentLength": size,
        }
        if mtime is not None:
            args["Metadata"] = {"mtime": f"{mtime:.9f}"}
        with translate_errors(self.bucket, key):
            done = self.client.put_object(**args)
        return Entry(check_path(path), size, mtime or 0.0, _checksum(done["ETag"]))

    def start_multipart(self, path: str, size: int) -> str:
        key = self._key(path)
        with translate_errors(self.bucket, key):
            upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)
        return str(upload["UploadId"])

    def write_part(
        self, path: str, upload_id: str, number: int, offset: int, data: bytes, md5: str = ""
    ) -> Part:
        key = self._key(path)
        digest = bytes.fromhex(md5) if md5 else hashlib.md5(data).digest()
        with translate_errors(self.bucket, key):
            done = self.client.upload_part(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                Body=data,
                ContentMD5=base64.b64encode(digest).decode(),
            )
        return Part(number, str(done["ETag"]))

    def complete_multipart(
        self, path: str, upload_id: str, parts: Sequence[Part], *, mtime: float | None = None
    ) -> Entry:
        key = self._key(path)
        with translate_errors(self.bucket, key):
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={
                    "Parts": [{"PartNumber": p.number, "ETag": p.token} for p in parts]
                },
            )
        return self.stat(path)

    def abort_multipart(self, path: str, upload_id: str) -> None:
        key = self._key(path)
        with contextlib.suppress(NoSuchPath), translate_errors(self.bucket, key):
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)

    # --- namespace -------------------------------------------------------------------------

    def delete(self, path: str) -> None:
        key = self._key(path)
        with translate_errors(self.bucket, key):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def mkdir(self, path: str) -> None:
        self._key(path, allow_root=True)  # keys imply their directories

    def rename(self, src: str, dst: str) -> None:
        self.copy(src, dst)
        self.delete(src)

    def copy(self, src: str, dst: str) -> Entry:
        source, key = self._key(src), self._key(dst)
        size = self.stat(src).size
        with translate_errors(self.bucket, key):
            if size <= MAX_COPY_OBJECT:
                self.client.copy_object(
                    Bucket=self.bucket, Key=key, CopySource={"Bucket": self.bucket, "Key": source}
                )
            else:
                self._copy_parts(source, key, size)
        return self.stat(dst)

    def _copy_parts(self, source: str, key: str, size: int) -> None:
        upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        parts = []
        for number, offset in enumerate(range(0, size, _COPY_PART), start=1):
            last = min(size, offset + _COPY_PART) - 1
            done = self.client.upload_part_copy(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload,
                PartNumber=number,
                CopySource={"Bucket": self.bucket, "Key": source},
                CopySourceRange=f"bytes={offset}-{last}",
            )
            parts.append({"PartNumber": number, "ETag": done["CopyPartResult"]["ETag"]})
        self.client.complete_multipart_upload(
            Bucket=self.bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts}
        )


_: type[EndpointDriver] = S3Driver
