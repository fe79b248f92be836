"""Share links: revocable bearer links to a bucket prefix or one object, opened in a browser.

The token is shown once, when the link is made; the server keeps only its hash. The link's
URL is `{server}/_/s/{token}`; every request through it is recorded (`/links/{id}/uses`).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from lading.http.api.deps import Caller, Ctx, Svc
from lading.http.api.shares import (
    BUCKET_NAME,
    BucketParam,
    Cursor,
    Id,
    IsoTime,
    Limit,
    after_of,
    micros,
    moment,
)
from lading.metadata.models import LinkUse, ShareLink
from lading.services.shares import link_state

router = APIRouter(tags=["links"])


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bucket: str = Field(min_length=1, max_length=63, pattern=BUCKET_NAME)
    prefix: str | None = Field(
        None, max_length=1024, description="share keys under this prefix ('' : the bucket)"
    )
    key: str | None = Field(
        None, min_length=1, max_length=1024, description="or share this one object"
    )
    expires_at: IsoTime | None = Field(
        None, description="when the link stops opening; default: in 7 days"
    )
    max_uses: int | None = Field(None, ge=1, le=2**31 - 1, description="downloads allowed")
    max_bytes: int | None = Field(None, ge=0, le=2**63 - 1, description="bytes allowed")
    note: str = Field("", max_length=4000, description="shown on the link's index page")


class LinkOut(BaseModel):
    id: int
    bucket: str
    prefix: str = Field(description="the shared prefix, or the key of an object link")
    is_object: bool
    created_at: dt.datetime
    expires_at: dt.datetime | None
    max_uses: int | None
    max_bytes: int | None
    uses: int
    bytes_served: int
    revoked_at: dt.datetime | None
    state: str = Field(description="active, revoked, expired, used-up or byte-cap")
    note: str


class NewLink(LinkOut):
    token: str = Field(description="the bearer token; shown only now")
    url: str = Field(description="the link to give out")


class LinkList(BaseModel):
    items: list[LinkOut]
    next: str | None


class UseOut(BaseModel):
    id: int
    at: dt.datetime
    remote: str = Field(description="the client's address")
    key: str
    bytes: int
    outcome: str = Field(
        description="served, index, head, or the refusal: revoked, expired, used-up, "
        "byte-cap, denied (an explicit Deny of the bucket policy)"
    )


class UseList(BaseModel):
    items: list[UseOut]
    next: str | None


def link_out(link: ShareLink, now: int) -> dict[str, object]:
    return {
        "id": link.id,
        "bucket": link.bucket_name,
        "prefix": link.prefix,
        "is_object": link.is_object,
        "created_at": moment(link.created_at),
        "expires_at": moment(link.expires_at),
        "max_uses": link.max_uses,
        "max_bytes": link.max_bytes,
        "uses": link.uses,
        "bytes_served": link.bytes_served,
        "revoked_at": moment(link.revoked_at),
        "state": link_state(link, now),
        "note": link.note,
    }


def _use_out(use: LinkUse) -> UseOut:
    at = moment(use.at)
    assert at is not None
    return UseOut(
        id=use.id, at=at, remote=use.remote, key=use.key, bytes=use.bytes, outcome=use.outcome
    )


@router.post("/links", response_model=NewLink, status_code=201, summary="Create a share link")
async def create_link(
    body: LinkIn, request: Request, caller: Caller, svc: Svc, ctx: Ctx
) -> NewLink:
    """A link to a prefix or one object of a bucket the caller owns; the token is shown once."""
    assert caller.user is not None
    link, token = await svc.shares.create_link(
        caller.user,
        body.bucket,
        prefix=body.prefix,
        key=body.key,
        expires_at=micros(body.expires_at),
        max_uses=body.max_uses,
        max_bytes=body.max_bytes,
        note=body.note,
    )
    base = ctx.settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")
    base = base.removesuffix("/_/api/v1")
    return NewLink(
        **link_out(link, svc.shares.clock()),
        token=token,
        url=f"{base}/_/s/{token}",
    )


@router.get("/links", response_model=LinkList, summary="List share links")
async def list_links(
    caller: Caller,
    svc: Svc,
    bucket: BucketParam = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> LinkList:
    assert caller.user is not None
    found = await svc.shares.list_links(
        caller.user, bucket_name=bucket, after=after_of(cursor), limit=limit
    )
    now = svc.shares.clock()
    return LinkList(
        items=[LinkOut(**link_out(link, now)) for link in found],
        next=str(found[-1].id) if len(found) == limit else None,
    )


@router.get("/links/{link_id}", response_model=LinkOut, summary="Show a share link")
async def get_link(link_id: Id, caller: Caller, svc: Svc) -> LinkOut:
    assert caller.user is not None
    link = await svc.shares.get_link(caller.user, link_id)
    return LinkOut(**link_out(link, svc.shares.clock()))


@router.post("/links/{link_id}/revoke", response_model=LinkOut, summary="Revoke a share link")
async def revoke_link(link_id: Id, caller: Caller, svc: Svc) -> LinkOut:
    """The link stops opening at once; it and its recorded uses stay listed."""
    assert caller.user is not None
    link = await svc.shares.revoke_link(caller.user, link_id)
    return LinkOut(**link_out(link, svc.shares.clock()))


@router.get("/links/{link_id}/uses", response_model=UseList, summary="A link's recorded uses")
async def link_uses(
    link_id: Id, caller: Caller, svc: Svc, limit: Limit = 100, cursor: Cursor = None
) -> UseList:
    """Every request through the link: when, from where, what, how many bytes, the outcome."""
    assert caller.user is not None
    found = await svc.shares.link_uses(caller.user, link_id, after=after_of(cursor), limit=limit)
    return UseList(
        items=[_use_out(use) for use in found],
        next=str(found[-1].id) if len(found) == limit else None,
    )
