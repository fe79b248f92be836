"""The two S3 calls the catalog's ingest needs (HEAD and a single PUT), signed as boto3 signs.

Not an S3 client: anything more goes through boto3 or another S3 tool.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from lading.client._sigv4 import SigV4
from lading.client.errors import ConnectionFailed, error_for


class ObjectUploads:
    """HEAD and PUT of whole objects, path-style, on the server's S3 endpoint."""

    def __init__(
        self,
        endpoint: str,
        *,
        access_key: str,
        secret_key: str,
        region: str = "us-east-1",
        timeout: float = 300.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._http = httpx.Client(
            base_url=self.endpoint,
            auth=SigV4(access_key, secret_key, region),
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def url(self, bucket: str, key: str) -> str:
        return f"{self.endpoint}/{quote(bucket, safe='')}/{quote(key, safe='/~')}"

    def _send(self, method: str, bucket: str, key: str, **kwargs: Any) -> httpx.Response:
        path = f"/{quote(bucket, safe='')}/{quote(key, safe='/~')}"
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ConnectionFailed(f"cannot reach {self.endpoint}: {exc}") from exc

    def etag(self, bucket: str, key: str) -> str | None:
        """The object's ETag without quotes, None if there is no such object."""
        response = self._send("HEAD", bucket, key)
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise error_for(response.status_code, {"detail": f"HEAD {key}"}, "")
        return str(response.headers.get("etag", "")).strip('"')

    def put(self, bucket: str, key: str, body: bytes, content_type: str) -> str:
        """Store body at key; returns the ETag."""
        response = self._send(
            "PUT", bucket, key, content=body, headers={"content-type": content_type}
        )
        if response.status_code >= 400:
            code = (
                response.text.split("<Code>")[-1].split("</Code>")[0]
                if "<Code>" in response.text
                else ""
            )
            raise error_for(
                response.status_code,
                {"code": code, "detail": f"PUT {bucket}/{key}: {code or response.status_code}"},
                response.headers.get("x-amz-request-id", ""),
            )
        return str(response.headers.get("etag", "")).strip('"')
