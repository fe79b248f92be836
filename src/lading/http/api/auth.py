"""Passwords and bearer tokens: login, refresh, revoke, and the caller's refresh tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.requests import Request

from lading import errors
from lading.concurrency import run_blocking
from lading.http.api.deps import CALLER_SCOPE, AdminCaller, Caller, Svc
from lading.http.api.keys import me, to_time
from lading.services.credentials import MAX_PASSWORD, Tokens

router = APIRouter(tags=["auth"])
Password = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PASSWORD)]


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Password
    description: Annotated[str, StringConstraints(max_length=255)] = Field(
        "", description="a note shown in the token list (e.g. the host of an agent)"
    )


class Refresh(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class Revoke(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: Annotated[str, StringConstraints(min_length=1, max_length=256)] = Field(
        description="a refresh token (its access tokens go with it) or an access token"
    )


class TokenPair(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds the access token is valid for")
    expires_at: datetime
    refresh_token: str | None = Field(None, description="only from login: keep it secret")
    refresh_expires_at: datetime
    refresh_token_id: str


class Token(BaseModel):
    id: str
    description: str
    created: datetime
    expires: datetime
    last_used: datetime | None = None


class TokenPage(BaseModel):
    items: list[Token]
    next: str | None = None


class NewPassword(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: Annotated[str, StringConstraints(min_length=8, max_length=MAX_PASSWORD)]
    current_password: Password | None = Field(
        None, description="needed when the user already has a password"
    )


class AdminPassword(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: Annotated[str, StringConstraints(min_length=8, max_length=MAX_PASSWORD)]


def _pair(svc_now: int, tokens: Tokens) -> TokenPair:
    expires = to_time(tokens.access_expires_at)
    refresh_expires = to_time(tokens.refresh_expires_at)
    assert expires is not None and refresh_expires is not None
    return TokenPair(
        access_token=tokens.access_token,
        expires_in=max(0, (tokens.access_expires_at - svc_now) // 1_000_000),
        expires_at=expires,
        refresh_token=tokens.refresh_token,
        refresh_expires_at=refresh_expires,
        refresh_token_id=tokens.refresh_id,
    )


@router.post("/auth/login", response_model=TokenPair, summary="Log in with a password")
async def login(request: Request, svc: Svc, body: Login) -> TokenPair:
    """A short-lived access token and a long-lived refresh token; 401 for a wrong pair."""
    request.scope[CALLER_SCOPE] = (body.username, "")
    tokens = await svc.credentials.login(body.username, body.password, body.description)
    return _pair(svc.credentials.now(), tokens)


@router.post("/auth/refresh", response_model=TokenPair, summary="A new access token")
async def refresh(svc: Svc, body: Refresh) -> TokenPair:
    """A fresh access token for a valid refresh token; 401 if it expired or was revoked."""
    return _pair(svc.credentials.now(), await svc.credentials.refresh(body.refresh_token))


@router.post("/auth/revoke", status_code=204, summary="Revoke a token")
async def revoke(svc: Svc, body: Revoke) -> Response:
    """Holding a token is enough to revoke it; unknown tokens are ignored (RFC 7009)."""
    await svc.credentials.revoke(body.token)
    return Response(status_code=204)


@router.get("/auth/tokens", response_model=TokenPage, summary="My refresh tokens")
async def list_tokens(caller: Caller, svc: Svc) -> TokenPage:
    """The caller's refresh tokens that are not revoked, oldest first."""
    records = await svc.credentials.list_tokens(me(caller))
    items = []
    for record in records:
        created, expires = to_time(record.created_at), to_time(record.expires_at)
        assert created is not None and expires is not None
        items.append(
            Token(
                id=record.id,
                description=record.description,
                created=created,
                expires=expires,
                last_used=to_time(record.last_used_at),
            )
        )
    return TokenPage(items=items)


@router.delete("/auth/tokens/{token_id}", status_code=204, summary="Revoke one of my tokens")
async def revoke_token(caller: Caller, svc: Svc, token_id: str) -> Response:
    records = await svc.credentials.list_tokens(me(caller))
    if token_id not in {r.id for r in records}:
        raise errors.NotFound(f"You hold no token {token_id!r}.")
    await svc.credentials.revoke_id(token_id)
    return Response(status_code=204)


@router.put("/me/password", status_code=204, summary="Set my password")
async def set_my_password(caller: Caller, svc: Svc, body: NewPassword) -> Response:
    """Set or change the caller's password (the current one is needed to change it)."""
    user = me(caller)
    if await svc.credentials.has_password(user):
        if body.current_password is None:
            raise errors.AccessDenied("Give current_password to change your password.")
        if not await svc.credentials.check_password(user, body.current_password):
            raise errors.AccessDenied("The current password is wrong.")
    await svc.credentials.set_password(user, body.password)
    return Response(status_code=204)


@router.put("/passwords/{user}", status_code=204, summary="Set a user's password (admin)")
async def set_password(caller: AdminCaller, svc: Svc, user: str, body: AdminPassword) -> Response:
    found = await run_blocking(svc.identity.meta.get_user, user)
    await svc.credentials.set_password(found, body.password)
    return Response(status_code=204)
