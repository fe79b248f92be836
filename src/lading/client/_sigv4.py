"""AWS Signature Version 4 for httpx requests (the server verifies it as it does for S3)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Generator
from datetime import UTC, datetime
from urllib.parse import quote, unquote

import httpx

SERVICE = "s3"

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"


def _encode(value: str) -> str:
    return quote(value, safe="-_.~")


def canonical_query(raw_query: str) -> str:
    pairs = []
    for part in raw_query.split("&") if raw_query else []:
        name, _, value = part.partition("=")
        pairs.append((_encode(unquote(name)), _encode(unquote(value.replace("+", "%20")))))
    return "&".join(f"{n}={v}" for n, v in sorted(pairs))


class SigV4(httpx.Auth):
    """Sign each request with an access key pair; the body is hashed into the signature."""

    requires_request_body = False  # a streamed body is signed as UNSIGNED-PAYLOAD

    def __init__(self, access_key: str, secret_key: str, region: str) -> None:
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        now = datetime.now(UTC)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        day = amz_date[:8]
        try:
            payload = hashlib.sha256(request.content).hexdigest()
        except httpx.RequestNotRead:  # a streamed upload: its bytes are checked by their MD5
            payload = UNSIGNED_PAYLOAD
        request.headers["x-amz-date"] = amz_date
        request.headers["x-amz-content-sha256"] = payload
        signed = sorted({"host", "x-amz-date", "x-amz-content-sha256"} | _optional(request))
        path, _, query = request.url.raw_path.decode("ascii").partition("?")
        canonical = "\n".join(
            [
                request.method,
                path or "/",
                canonical_query(query),
                "".join(f"{h}:{' '.join(request.headers[h].split())}\n" for h in signed),
                ";".join(signed),
                payload,
            ]
        )
        scope = f"{day}/{self.region}/{SERVICE}/aws4_request"
        to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        key = f"AWS4{self.secret_key}".encode()
        for part in (day, self.region, SERVICE, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        request.headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self.access_key}/{scope}, "
            f"SignedHeaders={';'.join(signed)}, Signature={signature}"
        )
        yield request


def _optional(request: httpx.Request) -> set[str]:
    return {h for h in ("content-type",) if h in request.headers}
