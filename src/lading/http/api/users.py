"""Users: list, create (with a first key pair), read, change, enable and disable."""

from __future__ import annotations

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from lading.concurrency import run_blocking
from lading.http.api.deps import AdminCaller, Caller, Svc, user_of
from lading.metadata.identity import iso
from lading.metadata.models import User

router = APIRouter(prefix="/users", tags=["users"])


class UserOut(BaseModel):
    name: str
    display_name: str
    email: str
    is_admin: bool
    enabled: bool
    created_at: str = Field(description="ISO 8601, UTC")

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            name=user.name,
            display_name=user.display_name,
            email=user.email,
            is_admin=user.is_admin,
            enabled=user.enabled,
            created_at=iso(user.created_at),
        )


class UserPage(BaseModel):
    items: list[UserOut]
    next: str | None = Field(None, description="cursor of the next page; null: no more")


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    display_name: str = Field("", max_length=255)
    email: str = Field("", max_length=255)
    is_admin: bool = False


class CreatedUser(UserOut):
    access_key: str
    secret_key: str = Field(description="shown once: the server answers it this time only")


class UserChange(BaseModel):
    display_name: str | None = Field(None, max_length=255)
    email: str | None = Field(None, max_length=255)
    is_admin: bool | None = None
    enabled: bool | None = Field(None, description="false: the user's keys stop working")


@router.get("", response_model=UserPage, summary="List users")
async def list_users(
    caller: AdminCaller,
    svc: Svc,
    limit: int = Query(100, ge=1, le=1000),
    cursor: str | None = Query(None, max_length=64),
) -> UserPage:
    """Users by name, a page at a time (administrators only)."""
    found = await svc.directory.list_users(user_of(caller), after=cursor or "", limit=limit + 1)
    more = len(found) > limit
    found = found[:limit]
    return UserPage(items=[UserOut.of(u) for u in found], next=found[-1].name if more else None)


@router.post(
    "",
    response_model=CreatedUser,
    status_code=status.HTTP_201_CREATED,
    summary="Create a user",
)
async def create_user(body: NewUser, caller: AdminCaller, svc: Svc) -> CreatedUser:
    """A new user with a personal project and a first access key pair (administrators)."""
    from lading.services.directory import validate_email

    validate_email(body.email)
    created = await run_blocking(
        lambda: svc.identity.add_user(body.name, is_admin=body.is_admin, email=body.email)
    )
    actor = user_of(caller)
    if body.display_name:
        await svc.directory.update_user(actor, body.name, display_name=body.display_name)
    user = await svc.directory.get_user(actor, body.name)
    return CreatedUser(
        **UserOut.of(user).model_dump(),
        access_key=created.access_key,
        secret_key=created.secret_key,
    )


@router.get("/{name}", response_model=UserOut, summary="Read a user")
async def get_user(name: str, caller: Caller, svc: Svc) -> UserOut:
    """A user's profile (administrators, or the user themselves)."""
    return UserOut.of(await svc.directory.get_user(user_of(caller), name))


@router.patch("/{name}", response_model=UserOut, summary="Change a user")
async def update_user(name: str, body: UserChange, caller: Caller, svc: Svc) -> UserOut:
    """Change a profile; users may change their own display name and email."""
    user = await svc.directory.update_user(
        user_of(caller),
        name,
        display_name=body.display_name,
        email=body.email,
        is_admin=body.is_admin,
        enabled=body.enabled,
    )
    return UserOut.of(user)
