"""Who am I: the caller's identity as the server sees it."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.requests import Request

from lading.http.api.deps import Caller, credentials_expire

router = APIRouter(tags=["identity"])


class WhoAmI(BaseModel):
    user: str = Field(description="user name")
    display_name: str
    is_admin: bool
    access_key: str | None = Field(None, description="the access key the request was signed by")
    credentials_expire: str | None = Field(
        None, description="when the credentials used expire (ISO 8601); null: they do not"
    )


@router.get("/whoami", response_model=WhoAmI, summary="The caller's identity")
async def whoami(caller: Caller, request: Request) -> WhoAmI:
    """The user the request is authenticated as, and how."""
    user = caller.user
    assert user is not None  # `caller` refuses anonymous requests
    expires = credentials_expire(request)
    return WhoAmI(
        user=user.name,
        display_name=user.display_name or user.name,
        is_admin=user.is_admin,
        access_key=caller.access_key,
        credentials_expire=None
        if expires is None
        else datetime.fromtimestamp(expires / 1e6, UTC).isoformat(timespec="seconds"),
    )
