"""The catalog: typed attributes on objects, and search over everything the caller may read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from pydantic_core import to_json

from lading.http.api.deps import Caller, Svc
from lading.metadata.catalog import Entry
from lading.services.catalog import (
    DEFAULT_LIMIT,
    SearchRequest,
    SearchResult,
    entry_record,
    select_fields,
)

router = APIRouter(prefix="/catalog", tags=["catalog"])


class AttributesIn(BaseModel):
    attributes: dict[str, Any] = Field(
        description=(
            "name -> value: a string, number, boolean, list of strings, "
            '{"type": "timestamp", "value": "2016-06-06T00:00:00Z"}, a GeoJSON `geometry` '
            "or a `bbox` [xmin, ymin, xmax, ymax]; in PATCH, null removes an attribute"
        ),
        examples=[{"experiment_id": "exp1", "date": {"type": "timestamp", "value": "2016-06-06"}}],
    )


class EntryOut(BaseModel):
    bucket: str
    key: str
    url: str = Field(description="the object's path-style URL on this server")
    version_id: str
    size: int
    etag: str
    content_type: str
    last_modified: str
    owner: str
    storage_class: str
    checksums: dict[str, str]
    metadata: dict[str, str] = Field(description="x-amz-meta-* (searchable as meta:<name>)")
    tags: dict[str, str] = Field(description="S3 tags (searchable as tag:<name>)")
    attributes: dict[str, Any]
    attribute_types: dict[str, str]


class SearchIn(BaseModel):
    filter: str | dict[str, Any] | None = Field(
        None,
        description="CQL2 text (or CQL2 JSON with filter_lang=cql2-json)",
        examples=["experiment_id = 'experiment1' AND size > 1000000"],
    )
    filter_lang: str = Field("cql2-text", alias="filter-lang")
    q: str | None = Field(None, description="full-text words over keys and string values")
    buckets: list[str] = Field(default_factory=list, description="only these buckets")
    sortby: list[str] = Field(default_factory=list, examples=[["-size", "key"]])
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=1000)
    cursor: str | None = None
    fields: list[str] = Field(default_factory=list, description="return only these fields")
    facets: list[str] = Field(default_factory=list, description="count values of these")

    model_config = {"populate_by_name": True}


class FacetValue(BaseModel):
    value: Any
    count: int


class SearchOut(BaseModel):
    items: list[dict[str, Any]]
    next: str | None = Field(None, description="cursor of the next page; null on the last")
    facets: dict[str, list[FacetValue]] = Field(default_factory=dict)


def base_url(request: Request) -> str:
    """The server's own URL as the client reached it (for object URLs)."""
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return f"{request.url.scheme}://{host}"


def entry_out(entry: Entry, request: Request) -> EntryOut:
    record = entry_record(entry, base_url(request))
    return EntryOut(**record)


def search_out(result: SearchResult, fields: list[str], request: Request) -> Response:
    """A page as SearchOut's JSON, written from plain dicts in one call.

    Going through the SearchOut model would validate and copy every record of the page
    twice (building the model, then FastAPI's response check) for dicts that are already
    the right shape; the route keeps `response_model` for its OpenAPI schema.
    """
    url = base_url(request)
    chosen = [f for part in fields for f in part.split(",") if f]
    page = {
        "items": [
            select_fields(entry_record(e, url), chosen) if chosen else entry_record(e, url)
            for e in result.entries
        ],
        "next": result.next_cursor,
        "facets": {
            name: [{"value": value, "count": count} for value, count in counts]
            for name, counts in result.facets.items()
        },
    }
    return Response(to_json(page, inf_nan_mode="null"), media_type="application/json")


def _split(values: list[str]) -> list[str]:
    return [item for value in values for item in value.split(",") if item]


@router.get("/search", response_model=SearchOut, summary="Search the catalog")
async def search_get(
    request: Request,
    caller: Caller,
    svc: Svc,
    filter: Annotated[str | None, Query(description="CQL2 text")] = None,
    filter_lang: Annotated[str, Query(alias="filter-lang")] = "cql2-text",
    q: Annotated[str | None, Query(description="full-text words")] = None,
    bucket: Annotated[list[str], Query(description="only these buckets")] = [],  # noqa: B006
    sortby: Annotated[list[str], Query(description="e.g. -size,key")] = [],  # noqa: B006
    limit: Annotated[int, Query(ge=1, le=1000)] = DEFAULT_LIMIT,
    cursor: str | None = None,
    fields: Annotated[list[str], Query(description="e.g. url,key")] = [],  # noqa: B006
    facets: Annotated[list[str], Query(description="e.g. experiment_id")] = [],  # noqa: B006
) -> Response:
    """Objects the caller may read that match a CQL2 filter and full-text words."""
    result = await svc.catalog.search(
        caller,
        SearchRequest(
            filter=filter,
            filter_lang=filter_lang,
            q=q,
            buckets=_split(bucket),
            sortby=_split(sortby),
            limit=limit,
            cursor=cursor,
            facets=_split(facets),
        ),
    )
    return search_out(result, fields, request)


@router.post("/search", response_model=SearchOut, summary="Search the catalog (JSON body)")
async def search_post(request: Request, caller: Caller, svc: Svc, body: SearchIn) -> Response:
    """The same search with its parameters in a JSON body (CQL2 JSON filters fit there)."""
    result = await svc.catalog.search(
        caller,
        SearchRequest(
            filter=body.filter,
            filter_lang=body.filter_lang,
            q=body.q,
            buckets=body.buckets,
            sortby=body.sortby,
            limit=body.limit,
            cursor=body.cursor,
            facets=body.facets,
        ),
    )
    return search_out(result, body.fields, request)


@router.get("/{bucket}/{key:path}/attributes", response_model=EntryOut, summary="An object's entry")
async def get_attributes(
    request: Request,
    caller: Caller,
    svc: Svc,
    bucket: str,
    key: str,
    version_id: str | None = None,
) -> EntryOut:
    """System metadata, user metadata, tags and typed attributes of one object version."""
    entry = await svc.catalog.get_entry(caller, bucket, key, version_id)
    return entry_out(entry, request)


@router.put(
    "/{bucket}/{key:path}/attributes", response_model=EntryOut, summary="Replace attributes"
)
async def put_attributes(
    request: Request,
    caller: Caller,
    svc: Svc,
    bucket: str,
    key: str,
    body: AttributesIn,
    version_id: str | None = None,
) -> EntryOut:
    """Set the object's typed attributes to exactly these."""
    entry = await svc.catalog.set_attributes(
        caller, bucket, key, body.attributes, replace=True, version_id=version_id
    )
    return entry_out(entry, request)


@router.patch(
    "/{bucket}/{key:path}/attributes", response_model=EntryOut, summary="Change attributes"
)
async def patch_attributes(
    request: Request,
    caller: Caller,
    svc: Svc,
    bucket: str,
    key: str,
    body: AttributesIn,
    version_id: str | None = None,
) -> EntryOut:
    """Set the named attributes, remove those given as null, keep the others."""
    entry = await svc.catalog.set_attributes(
        caller, bucket, key, body.attributes, replace=False, version_id=version_id
    )
    return entry_out(entry, request)
