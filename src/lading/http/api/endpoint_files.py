"""/endpoints/{name}/files/...: an endpoint's driver operations, for its owner's client-side
copies (`lading cp ENDPOINT:PATH`); the endpoint's credentials stay on the server.

Routes are plain functions (run in the thread pool, as the driver's I/O blocks). Bodies are
streamed both ways: a read answers with the file's bytes as the driver yields them, a write
hands the request's chunks to the driver as they arrive (memory: one chunk). Writes are
signed with UNSIGNED-PAYLOAD; their bytes are checked with MD5s by the copy that sends them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anyio.from_thread
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import ClientDisconnect

from lading import errors
from lading.http.api.deps import Caller, Svc
from lading.services.endpoint_relay import EndpointRelay

router = APIRouter(tags=["transfers"])
BASE = "/endpoints/{name}/files"
_BYTES = {"schema": {"type": "string", "format": "binary"}}
_NDJSON = {"schema": {"type": "string", "description": "one JSON object (an entry) a line"}}
_BODY = {"requestBody": {"required": True, "content": {"application/octet-stream": _BYTES}}}


def _relay(svc: Svc, caller: Caller, name: str) -> EndpointRelay:
    assert caller.user is not None  # `caller` refuses anonymous requests
    return EndpointRelay(svc.transfers, caller.user.id, name)


def _body(request: Request) -> Iterator[bytes]:
    """The request body's chunks, pulled from the event loop by this worker thread."""
    stream = request.stream()
    while True:
        try:
            chunk = anyio.from_thread.run(stream.__anext__)
        except StopAsyncIteration:
            return
        except ClientDisconnect:
            raise errors.IncompleteBody("The client went away before the body ended.") from None
        if chunk:
            yield chunk


# a part is held whole while the driver writes it: more than this is refused, not buffered
MAX_PART = 1 << 30


def read_part(chunks: Iterator[bytes], limit: int = MAX_PART) -> bytes:
    """A part's bytes, refused with EntityTooLarge as soon as they pass `limit`."""
    data = bytearray()
    for chunk in chunks:
        data += chunk
        if len(data) > limit:
            raise errors.EntityTooLarge(f"A relayed part may hold at most {limit} bytes.")
    return bytes(data)


class FeaturesOut(BaseModel):
    server_side_copy: bool
    multipart: bool
    native_checksum: bool
    set_mtime: bool
    min_part_size: int
    max_parts: int


class EntryOut(BaseModel):
    path: str
    size: int
    mtime: float
    checksum: str | None


class UploadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str
    size: int = Field(ge=0)


class UploadOut(BaseModel):
    upload_id: str


class PartOut(BaseModel):
    number: int
    token: str


class PartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: int = Field(ge=1, le=10_000)
    token: str


class CompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str
    parts: list[PartIn] = Field(min_length=1)
    mtime: float | None = None


@router.get(
    f"{BASE}/features", response_model=FeaturesOut, summary="What the endpoint's driver can do"
)
def features(name: str, caller: Caller, svc: Svc) -> dict[str, Any]:
    return _relay(svc, caller, name).features()


@router.get(
    f"{BASE}/list",
    summary="Every file under a path, sorted, one JSON object a line (application/x-ndjson)",
    response_class=StreamingResponse,
    responses={200: {"description": "The entries", "content": {"application/x-ndjson": _NDJSON}}},
)
def list_files(name: str, caller: Caller, svc: Svc, path: str = "") -> StreamingResponse:
    entries = _relay(svc, caller, name).list(path)
    lines = (json.dumps(e, separators=(",", ":")) + "\n" for e in entries)
    return StreamingResponse(lines, media_type="application/x-ndjson")


@router.get(f"{BASE}/stat", response_model=EntryOut, summary="One file")
def stat_file(name: str, path: str, caller: Caller, svc: Svc) -> dict[str, Any]:
    return _relay(svc, caller, name).stat(path)


@router.get(
    f"{BASE}/read",
    summary="A file's bytes, from `start`, `length` of them (or to the end)",
    response_class=StreamingResponse,
    responses={200: {"description": "The bytes", "content": {"application/octet-stream": _BYTES}}},
)
def read_file(
    name: str,
    path: str,
    caller: Caller,
    svc: Svc,
    start: int = Query(0, ge=0),
    length: int | None = Query(None, ge=0),
) -> StreamingResponse:
    chunks = _relay(svc, caller, name).read(path, start, length)
    return StreamingResponse(chunks, media_type="application/octet-stream")


@router.put(
    f"{BASE}/write",
    response_model=EntryOut,
    summary="Store a file (streamed body)",
    openapi_extra=_BODY,
)
def write_file(
    name: str,
    path: str,
    request: Request,
    caller: Caller,
    svc: Svc,
    size: int = Query(ge=0),
    mtime: float | None = None,
) -> dict[str, Any]:
    return _relay(svc, caller, name).write(path, _body(request), size, mtime)


@router.post(f"{BASE}/uploads", response_model=UploadOut, summary="Begin a multipart write")
def start_upload(name: str, body: UploadIn, caller: Caller, svc: Svc) -> dict[str, Any]:
    return {"upload_id": _relay(svc, caller, name).start_multipart(body.path, body.size)}


@router.put(
    f"{BASE}/uploads/{{upload_id}}/parts/{{number}}",
    response_model=PartOut,
    summary="Write one part (the bytes at `offset` of the file)",
    openapi_extra=_BODY,
)
def write_part(
    name: str,
    upload_id: str,
    number: int,
    path: str,
    request: Request,
    caller: Caller,
    svc: Svc,
    offset: int = Query(ge=0),
    md5: str = Query("", pattern="^([0-9a-f]{32})?$"),
) -> dict[str, Any]:
    data = read_part(_body(request))
    token = _relay(svc, caller, name).write_part(path, upload_id, number, offset, data, md5)
    return {"number": number, "token": token}


@router.post(
    f"{BASE}/uploads/{{upload_id}}/complete",
    response_model=EntryOut,
    summary="Assemble the parts",
)
def complete_upload(
    name: str, upload_id: str, body: CompleteIn, caller: Caller, svc: Svc
) -> dict[str, Any]:
    parts = [(p.number, p.token) for p in body.parts]
    return _relay(svc, caller, name).complete_multipart(body.path, upload_id, parts, body.mtime)


@router.delete(
    f"{BASE}/uploads/{{upload_id}}", status_code=204, summary="Drop an unfinished multipart write"
)
def abort_upload(name: str, upload_id: str, path: str, caller: Caller, svc: Svc) -> Response:
    _relay(svc, caller, name).abort_multipart(path, upload_id)
    return Response(status_code=204)


@router.delete(BASE, status_code=204, summary="Remove a file")
def delete_file(name: str, path: str, caller: Caller, svc: Svc) -> Response:
    _relay(svc, caller, name).delete(path)
    return Response(status_code=204)


@router.post(f"{BASE}/mkdir", status_code=204, summary="Create a directory and its parents")
def make_dir(name: str, path: str, caller: Caller, svc: Svc) -> Response:
    _relay(svc, caller, name).mkdir(path)
    return Response(status_code=204)
