"""Access keys: a user manages its own (at most two active), an administrator anyone's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from lading import errors
from lading.concurrency import run_blocking
from lading.http.api.deps import Caller, Svc
from lading.metadata.credentials import ACTIVE, KeyRecord
from lading.metadata.models import User
from lading.services.container import Services

router = APIRouter(prefix="/keys", tags=["keys"])
US = 1_000_000


def _iso_time(value: object) -> object:
    """Only ISO 8601 date-times (pydantic alone also takes numbers as epoch seconds)."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and "T" in value.upper():
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError("expected an ISO 8601 date-time such as 2027-06-30T00:00:00Z")


IsoTime = Annotated[datetime, BeforeValidator(_iso_time)]


def to_time(micros: int | None) -> datetime | None:
    return None if micros is None else datetime.fromtimestamp(micros / US, UTC)


def to_micros(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * US)


class Key(BaseModel):
    access_key: str
    user: str
    status: Literal["active", "disabled"]
    created: datetime
    expires: datetime | None = Field(None, description="null: the key does not expire")
    last_used: datetime | None = Field(
        None, description="when the key last signed a request (kept to about a minute)"
    )
    expired: bool = Field(description="whether the expiry date has passed (the key is refused)")


class NewKey(Key):
    secret_key: str = Field(description="shown once: the server keeps it only sealed")


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str | None = Field(None, description="whose key (administrators only); default: yours")
    expires: IsoTime | None = Field(None, description="when the key stops working (ISO 8601)")


class KeyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["active", "disabled"] | None = None
    expires: IsoTime | None = Field(None, description="a new expiry; an explicit null removes it")


class KeyPage(BaseModel):
    items: list[Key]
    next: str | None = None


def key_view(svc: Services, record: KeyRecord, now: datetime) -> Key:
    pending = svc.identity.key_use.get(record.access_key)
    last = max(filter(None, (record.last_used_at, pending)), default=None)
    return Key(
        access_key=record.access_key,
        user=record.user.name,
        status="active" if record.status == ACTIVE else "disabled",
        created=to_time(record.created_at) or now,
        expires=to_time(record.expires_at),
        last_used=to_time(last),
        expired=record.expires_at is not None and record.expires_at <= now.timestamp() * US,
    )


async def target_user(svc: Services, caller: User, name: str | None) -> User:
    """The user a call is about: the caller, or (administrators only) the one named."""
    if name is None or name == caller.name:
        return caller
    if not caller.is_admin:
        raise errors.AccessDenied("Only administrators manage other users' keys.")
    return await run_blocking(svc.identity.meta.get_user, name)


async def owned_key(svc: Services, caller: User, access_key: str) -> KeyRecord:
    """A key of the caller (any key for an administrator); NoSuchAccessKey otherwise."""
    record = await svc.credentials.get_key(access_key)
    if record.user.id != caller.id and not caller.is_admin:
        raise errors.NoSuchAccessKey(access_key)
    return record


def me(caller: Caller) -> User:
    assert caller.user is not None  # `caller` refuses anonymous requests
    return caller.user


@router.get("", response_model=KeyPage, summary="List access keys")
async def list_keys(
    caller: Caller,
    svc: Svc,
    user: Annotated[str | None, Query(description="whose keys (administrators)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=128)] = None,
) -> KeyPage:
    """The keys of the caller, or of `user` for an administrator, oldest first."""
    owner = await target_user(svc, me(caller), user)
    records = await svc.credentials.list_keys(owner)
    if cursor is not None:
        names = [r.access_key for r in records]
        records = records[names.index(cursor) + 1 :] if cursor in names else []
    now = svc.credentials.clock()
    page = [key_view(svc, r, now) for r in records[:limit]]
    more = len(records) > limit
    return KeyPage(items=page, next=page[-1].access_key if more and page else None)


@router.post("", response_model=NewKey, status_code=201, summary="Create an access key")
async def create_key(caller: Caller, svc: Svc, body: KeyCreate) -> NewKey:
    """A new active key pair; 409 TooManyAccessKeys when the user holds two active keys."""
    owner = await target_user(svc, me(caller), body.user)
    made = await svc.credentials.create_key(owner, expires_at=to_micros(body.expires))
    view = key_view(svc, made.record, svc.credentials.clock())
    return NewKey(**view.model_dump(), secret_key=made.secret_key)


@router.get("/{access_key}", response_model=Key, summary="Show an access key")
async def get_key(caller: Caller, svc: Svc, access_key: str) -> Key:
    record = await owned_key(svc, me(caller), access_key)
    return key_view(svc, record, svc.credentials.clock())


@router.patch("/{access_key}", response_model=Key, summary="Enable, disable or set the expiry")
async def update_key(caller: Caller, svc: Svc, access_key: str, body: KeyUpdate) -> Key:
    """Change the status and/or expiry; enabling a third active key is 409."""
    await owned_key(svc, me(caller), access_key)
    expires: int | None | object = ...
    if "expires" in body.model_fields_set:
        expires = to_micros(body.expires)
    enabled = None if body.status is None else body.status == "active"
    record = await svc.credentials.update_key(access_key, enabled=enabled, expires_at=expires)
    return key_view(svc, record, svc.credentials.clock())


@router.delete("/{access_key}", status_code=204, summary="Delete an access key")
async def delete_key(caller: Caller, svc: Svc, access_key: str) -> Response:
    await owned_key(svc, me(caller), access_key)
    await svc.credentials.delete_key(access_key)
    return Response(status_code=204)
