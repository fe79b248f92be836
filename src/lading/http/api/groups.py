"""Groups of users: create, delete, list, read, add and remove members."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from lading.http.api.deps import AdminCaller, Caller, Svc, user_of
from lading.metadata.identity import Group, iso

router = APIRouter(prefix="/groups", tags=["groups"])


class GroupOut(BaseModel):
    name: str
    description: str
    members: list[str] = Field(description="user names")
    created_at: str = Field(description="ISO 8601, UTC")

    @classmethod
    def of(cls, group: Group) -> GroupOut:
        return cls(
            name=group.name,
            description=group.description,
            members=list(group.members),
            created_at=iso(group.created_at),
        )


class GroupPage(BaseModel):
    items: list[GroupOut]
    next: str | None = Field(None, description="cursor of the next page; null: no more")


class NewGroup(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    description: str = Field("", max_length=1024)


@router.get("", response_model=GroupPage, summary="List groups")
async def list_groups(
    caller: Caller,
    svc: Svc,
    limit: int = Query(100, ge=1, le=1000),
    cursor: str | None = Query(None, max_length=64),
) -> GroupPage:
    """Groups by name, a page at a time."""
    found = await svc.directory.list_groups(user_of(caller), after=cursor or "", limit=limit + 1)
    more = len(found) > limit
    found = found[:limit]
    return GroupPage(items=[GroupOut.of(g) for g in found], next=found[-1].name if more else None)


@router.post(
    "", response_model=GroupOut, status_code=status.HTTP_201_CREATED, summary="Create a group"
)
async def create_group(body: NewGroup, caller: AdminCaller, svc: Svc) -> GroupOut:
    """A new, empty group (administrators)."""
    return GroupOut.of(
        await svc.directory.create_group(user_of(caller), body.name, body.description)
    )


@router.get("/{name}", response_model=GroupOut, summary="Read a group")
async def get_group(name: str, caller: Caller, svc: Svc) -> GroupOut:
    return GroupOut.of(await svc.directory.get_group(user_of(caller), name))


@router.delete(
    "/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a group",
)
async def delete_group(name: str, caller: AdminCaller, svc: Svc) -> Response:
    """Delete a group; its members lose what was shared with it (administrators)."""
    await svc.directory.delete_group(user_of(caller), name)
    return Response(status_code=204)


@router.put("/{name}/members/{user}", response_model=GroupOut, summary="Add a member")
async def add_member(name: str, user: str, caller: AdminCaller, svc: Svc) -> GroupOut:
    """Add a user to the group; idempotent (administrators)."""
    return GroupOut.of(await svc.directory.set_group_member(user_of(caller), name, user, True))


@router.delete("/{name}/members/{user}", response_model=GroupOut, summary="Remove a member")
async def remove_member(name: str, user: str, caller: AdminCaller, svc: Svc) -> GroupOut:
    """Remove a user from the group; idempotent (administrators)."""
    return GroupOut.of(await svc.directory.set_group_member(user_of(caller), name, user, False))
