"""Shares: grant a bucket prefix to a user, a group, every authenticated user or anyone.

Modelled on the Globus access rule. Deleting a share removes the rule, never data. The
notification outbox (every share notification, sent or not) is for admins.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from lading.http.api.deps import AdminCaller, Caller, Svc
from lading.metadata.models import OutboxMessage, Share

router = APIRouter(tags=["shares"])

PrincipalType = Literal["user", "group", "all_authenticated_users", "anonymous"]
Limit = Annotated[int, Query(ge=1, le=1000, description="at most this many items")]
BUCKET_NAME = r"^[A-Za-z0-9._-]+$"
BucketParam = Annotated[
    str | None,
    Query(min_length=1, max_length=63, pattern=BUCKET_NAME, description="only this bucket's"),
]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
Cursor = Annotated[
    str | None, Query(max_length=20, description="the `next` value of the previous page")
]


def _iso_time(value: object) -> object:
    """Only ISO 8601 date-times (pydantic alone also takes numbers as epoch seconds)."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and "T" in value.upper():
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError("expected an ISO 8601 date-time such as 2027-06-30T00:00:00Z")


IsoTime = Annotated[dt.datetime, BeforeValidator(_iso_time)]


def micros(when: dt.datetime | None) -> int | None:
    """Epoch microseconds of an aware (or UTC) time."""
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1_000_000)


def moment(value: int | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromtimestamp(value / 1e6, dt.UTC)


def after_of(cursor: str | None) -> int:
    """The id a cursor points after (cursors are opaque to clients: decimal ids here)."""
    return int(cursor) if cursor and cursor.isdigit() else 0


class ShareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bucket: str = Field(
        min_length=1, max_length=63, pattern=BUCKET_NAME, description="the bucket to share"
    )
    prefix: str = Field(
        "", max_length=1024, description="keys starting with this; '' shares the whole bucket"
    )
    principal_type: PrincipalType
    principal: str | None = Field(
        None, max_length=255, description="user or group name; null for the other two types"
    )
    permissions: Literal["r", "rw"] = "r"
    expires_at: IsoTime | None = Field(None, description="when the share ends; null: never")
    message: str = Field("", max_length=4000, description="a message for the grantee")
    notify_email: str = Field(
        "", max_length=320, description="mail a notification to this address ('' : none)"
    )


class ShareOut(BaseModel):
    id: int
    bucket: str
    prefix: str
    principal_type: str
    principal: str | None
    permissions: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    expired: bool
    message: str
    notify_email: str


class ShareList(BaseModel):
    items: list[ShareOut]
    next: str | None


class OutboxOut(BaseModel):
    id: int
    created_at: dt.datetime
    recipient: str
    subject: str
    body: str
    status: str = Field(description="stored (no SMTP server), sent or failed")
    error: str
    share_id: int | None


class OutboxList(BaseModel):
    items: list[OutboxOut]
    next: str | None


def share_out(share: Share, bucket: str, now: int) -> ShareOut:
    created = moment(share.created_at)
    assert created is not None
    return ShareOut(
        id=share.id,
        bucket=bucket,
        prefix=share.prefix,
        principal_type=share.principal_type,
        principal=share.principal_name or None,
        permissions=share.permission,
        created_at=created,
        expires_at=moment(share.expires_at),
        expired=share.expires_at is not None and now >= share.expires_at,
        message=share.message,
        notify_email=share.notify_email,
    )


def _message_out(message: OutboxMessage) -> OutboxOut:
    created = moment(message.created_at)
    assert created is not None
    return OutboxOut(
        id=message.id,
        created_at=created,
        recipient=message.recipient,
        subject=message.subject,
        body=message.body,
        status=message.status,
        error=message.error,
        share_id=message.share_id,
    )


@router.post("/shares", response_model=ShareOut, status_code=201, summary="Create a share")
async def create_share(body: ShareIn, caller: Caller, svc: Svc) -> ShareOut:
    """Grant (bucket, prefix) to a principal; only the bucket's owner (or an admin) may."""
    assert caller.user is not None
    share = await svc.shares.create_share(
        caller.user,
        body.bucket,
        prefix=body.prefix,
        principal_type=body.principal_type,
        principal=body.principal,
        permission=body.permissions,
        expires_at=micros(body.expires_at),
        message=body.message,
        notify_email=body.notify_email,
    )
    return share_out(share, body.bucket, svc.shares.clock())


@router.get("/shares", response_model=ShareList, summary="List shares")
async def list_shares(
    caller: Caller,
    svc: Svc,
    bucket: BucketParam = None,
    granted: Annotated[bool, Query(description="the shares made to me instead")] = False,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> ShareList:
    """The shares of a bucket, of all the caller's buckets, or (granted) made to the caller."""
    assert caller.user is not None
    found = await svc.shares.list_shares(
        caller.user, bucket_name=bucket, granted=granted, after=after_of(cursor), limit=limit
    )
    now = svc.shares.clock()
    names: dict[int, str] = {}
    items = []
    for share in found:
        if share.bucket_id not in names:
            names[share.bucket_id] = await svc.shares.bucket_name(share.bucket_id)
        items.append(share_out(share, names[share.bucket_id], now))
    return ShareList(items=items, next=str(found[-1].id) if len(found) == limit else None)


@router.get("/shares/{share_id}", response_model=ShareOut, summary="Show a share")
async def get_share(share_id: Id, caller: Caller, svc: Svc) -> ShareOut:
    assert caller.user is not None
    share, bucket = await svc.shares.get_share(caller.user, share_id)
    return share_out(share, bucket.name, svc.shares.clock())


@router.delete(
    "/shares/{share_id}", status_code=204, response_class=Response, summary="Delete a share"
)
async def delete_share(share_id: Id, caller: Caller, svc: Svc) -> Response:
    """Remove the access rule at once; no object is deleted."""
    assert caller.user is not None
    await svc.shares.delete_share(caller.user, share_id)
    return Response(status_code=204)


@router.get("/outbox", response_model=OutboxList, summary="Notification messages (admins)")
async def outbox(
    caller: AdminCaller, svc: Svc, limit: Limit = 100, cursor: Cursor = None
) -> OutboxList:
    """Every notification e-mail, whether it was sent, kept (no SMTP server) or failed."""
    found = await svc.shares.mailer.outbox(after=after_of(cursor), limit=limit)
    return OutboxList(
        items=[_message_out(m) for m in found],
        next=str(found[-1].id) if len(found) == limit else None,
    )
