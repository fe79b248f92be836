"""A STAC API over the catalog under /_/stac/: landing page, conformance, collections
(one per readable bucket), items (objects with a place or a time) and item search with
bbox, datetime and CQL2 filters. Anonymous requests see what anonymous users may read;
SigV4-signed requests see what their user may read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp

from lading import errors
from lading.catalog import stac
from lading.http.api.deps import ApiContext, Svc
from lading.http.api.deps import caller as signed_caller
from lading.http.api.errors import HANDLERS
from lading.iam.principals import ANONYMOUS, Principal
from lading.metadata.catalog import Entry
from lading.services.catalog import SearchRequest, entry_record
from lading.settings import Settings

PREFIX = "/_/stac"
DEFAULT_LIMIT = 10
router = APIRouter()


class GeoJSONResponse(JSONResponse):
    media_type = stac.GEOJSON


async def principal_of(request: Request) -> Principal:
    """The signing user, or anonymous for an unsigned request."""
    signed = "authorization" in request.headers or "X-Amz-Signature" in request.query_params
    return await signed_caller(request) if signed else ANONYMOUS


def server_url(request: Request) -> str:
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return f"{request.url.scheme}://{host}"


def stac_url(request: Request) -> str:
    return server_url(request) + PREFIX


def as_item(request: Request, entry: Entry) -> dict[str, Any]:
    record = entry_record(entry, server_url(request))
    extent = None
    if entry.extent is not None:
        extent = {"bbox": entry.extent.bbox, "start": entry.extent.start, "end": entry.extent.end}
    return stac.item(stac_url(request), record, extent)


def _bbox(text: str | None) -> list[float] | None:
    if not text:
        return None
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise errors.InvalidArgument(f"bbox {text!r}: four comma-separated numbers") from None


async def _search(
    request: Request,
    svc: Any,
    principal: Principal,
    *,
    collections: list[str],
    bbox: list[float] | None,
    datetime_: str | None,
    filter_: str | dict[str, Any] | None,
    filter_lang: str | None,
    limit: int,
    token: str | None,
    next_link: Callable[[str], dict[str, Any]],
) -> dict[str, Any]:
    if not 1 <= limit <= 1000:
        raise errors.InvalidArgument("limit must be between 1 and 1000")
    result = await svc.catalog.search(
        principal,
        SearchRequest(
            filter=filter_,
            filter_lang=filter_lang or ("cql2-json" if isinstance(filter_, dict) else "cql2-text"),
            buckets=collections,
            bbox=bbox,
            datetime=datetime_,
            limit=limit,
            cursor=token,
            items_only=True,
        ),
    )
    links = [{"rel": "root", "href": f"{stac_url(request)}/", "type": "application/json"}]
    if result.next_cursor:
        links.append(next_link(result.next_cursor))
    return {
        "type": "FeatureCollection",
        "features": [as_item(request, e) for e in result.entries],
        "links": links,
        "numberReturned": len(result.entries),
    }


@router.get("/", summary="The STAC landing page")
async def landing(request: Request) -> dict[str, Any]:
    return stac.landing_page(stac_url(request), "Lading STAC API")


@router.get("/conformance", summary="Conformance classes")
async def conformance() -> dict[str, Any]:
    return {"conformsTo": stac.CONFORMANCE}


@router.get("/collections", summary="Readable buckets as collections")
async def collections(request: Request, svc: Svc) -> dict[str, Any]:
    principal = await principal_of(request)
    found = [
        stac.collection(stac_url(request), b.name, b.created_at, extent)
        for b, extent in await svc.catalog.readable_extents(principal)
    ]
    base = stac_url(request)
    return {
        "collections": found,
        "links": [
            {"rel": "self", "href": f"{base}/collections", "type": "application/json"},
            {"rel": "root", "href": f"{base}/", "type": "application/json"},
        ],
    }


@router.get("/collections/{name}", summary="One bucket as a collection")
async def get_collection(request: Request, svc: Svc, name: str) -> dict[str, Any]:
    principal = await principal_of(request)
    bucket, extent = (await svc.catalog.readable_extents(principal, [name]))[0]
    return stac.collection(stac_url(request), bucket.name, bucket.created_at, extent)


@router.get("/collections/{name}/items", summary="A collection's items")
async def items(
    request: Request,
    svc: Svc,
    name: str,
    bbox: str | None = None,
    datetime: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = DEFAULT_LIMIT,
    token: str | None = None,
) -> GeoJSONResponse:
    principal = await principal_of(request)

    def next_link(cursor: str) -> dict[str, Any]:
        query = {k: v for k, v in request.query_params.items() if k != "token"}
        query["token"] = cursor
        href = f"{stac_url(request)}/collections/{name}/items?{urlencode(query)}"
        return {"rel": "next", "href": href, "type": stac.GEOJSON}

    found = await _search(
        request,
        svc,
        principal,
        collections=[name],
        bbox=_bbox(bbox),
        datetime_=datetime,
        filter_=None,
        filter_lang=None,
        limit=limit,
        token=token,
        next_link=next_link,
    )
    return GeoJSONResponse(found)


@router.get("/collections/{name}/items/{key:path}", summary="One item")
async def get_item(request: Request, svc: Svc, name: str, key: str) -> GeoJSONResponse:
    principal = await principal_of(request)
    entry = await svc.catalog.get_entry(principal, name, key)
    if entry.extent is None:
        raise errors.NoSuchKey(name, key)  # an object without place or time is no item
    return GeoJSONResponse(as_item(request, entry))


@router.get("/search", summary="Item search")
async def search_get(
    request: Request,
    svc: Svc,
    collections: str | None = None,
    bbox: str | None = None,
    datetime: str | None = None,
    filter: str | None = None,
    filter_lang: Annotated[str | None, Query(alias="filter-lang")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = DEFAULT_LIMIT,
    token: str | None = None,
) -> GeoJSONResponse:
    principal = await principal_of(request)

    def next_link(cursor: str) -> dict[str, Any]:
        query = {k: v for k, v in request.query_params.items() if k != "token"}
        query["token"] = cursor
        href = f"{stac_url(request)}/search?{urlencode(query)}"
        return {"rel": "next", "href": href, "type": stac.GEOJSON, "method": "GET"}

    found = await _search(
        request,
        svc,
        principal,
        collections=[c for c in (collections or "").split(",") if c],
        bbox=_bbox(bbox),
        datetime_=datetime,
        filter_=filter,
        filter_lang=filter_lang,
        limit=limit,
        token=token,
        next_link=next_link,
    )
    return GeoJSONResponse(found)


@router.post("/search", summary="Item search (JSON body)")
async def search_post(request: Request, svc: Svc) -> GeoJSONResponse:
    principal = await principal_of(request)
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise errors.InvalidArgument("the search body is not JSON") from None
    if not isinstance(body, dict):
        raise errors.InvalidArgument("the search body is a JSON object")
    box = body.get("bbox")
    if body.get("intersects") is not None:
        from lading.catalog.attributes import geometry_bbox

        box = list(geometry_bbox(body["intersects"]))

    def next_link(cursor: str) -> dict[str, Any]:
        return {
            "rel": "next",
            "href": f"{stac_url(request)}/search",
            "type": stac.GEOJSON,
            "method": "POST",
            "body": {**body, "token": cursor},
            "merge": False,
        }

    found = await _search(
        request,
        svc,
        principal,
        collections=list(body.get("collections") or []),
        bbox=box,
        datetime_=body.get("datetime"),
        filter_=body.get("filter"),
        filter_lang=body.get("filter-lang") or body.get("filter_lang"),
        limit=int(body.get("limit") or DEFAULT_LIMIT),
        token=body.get("token"),
        next_link=next_link,
    )
    return GeoJSONResponse(found)


def build_stac(settings: Settings, clock: Callable[[], datetime]) -> ASGIApp:
    """The STAC API application, to be mounted at PREFIX."""
    app = FastAPI(
        title="Lading STAC API",
        openapi_url="/api",
        docs_url=None,
        redoc_url=None,
        exception_handlers=dict(HANDLERS),  # type: ignore[arg-type]
    )
    app.state.lading = ApiContext(settings, clock)
    app.include_router(router)
    return app
