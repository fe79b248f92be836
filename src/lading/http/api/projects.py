"""Projects: quota, expiry and grace, members and their roles, and the buckets they own."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from lading.http.api.deps import AdminCaller, Caller, Ctx, Svc, user_of
from lading.metadata.identity import ROLES, Project, iso

router = APIRouter(prefix="/projects", tags=["projects"])
MAX_COUNT = 2**63 - 1  # what the database's BIGINT holds
Role = Field(pattern=f"^({'|'.join(ROLES)})$", description="admin, writer or reader")


def micros(moment: dt.datetime | None) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1_000_000)


class Member(BaseModel):
    user: str
    role: str


class ProjectOut(BaseModel):
    name: str
    description: str
    personal: bool = Field(description="a user's personal project")
    quota_bytes: int | None = Field(description="null: no limit")
    quota_objects: int | None = Field(description="null: no limit")
    expires_at: str | None = Field(description="ISO 8601; after it the buckets are read-only")
    grace_days: int = Field(description="days after expiry before admins are told to act")
    used_bytes: int
    used_objects: int
    expired: bool
    needs_attention: bool = Field(description="past expiry and grace: archive or delete it")
    members: list[Member]
    created_at: str

    @classmethod
    def of(cls, project: Project, now: int) -> ProjectOut:
        return cls(
            name=project.name,
            description=project.description,
            personal=project.personal,
            quota_bytes=project.quota_bytes,
            quota_objects=project.quota_objects,
            expires_at=iso(project.expires_at) if project.expires_at is not None else None,
            grace_days=project.grace_days,
            used_bytes=project.used_bytes,
            used_objects=project.used_objects,
            expired=project.expired(now),
            needs_attention=project.needs_attention(now),
            members=[Member(user=u, role=r) for u, r in project.members.items()],
            created_at=iso(project.created_at),
        )


class ProjectDetail(ProjectOut):
    buckets: list[str]


class ProjectPage(BaseModel):
    items: list[ProjectOut]
    next: str | None = Field(None, description="cursor of the next page; null: no more")


class NewProject(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    description: str = Field("", max_length=1024)
    quota_bytes: int | None = Field(None, ge=0, le=MAX_COUNT)
    quota_objects: int | None = Field(None, ge=0, le=MAX_COUNT)
    expires_at: dt.datetime | None = None
    grace_days: int = Field(30, ge=0, le=36_500)
    admin: str | None = Field(None, description="a user to make the project's first admin")


class ProjectChange(BaseModel):
    """Fields left out stay as they are; a quota or expiry sent as null is removed."""

    description: str | None = Field(None, max_length=1024)
    quota_bytes: int | None = Field(None, ge=0, le=MAX_COUNT)
    quota_objects: int | None = Field(None, ge=0, le=MAX_COUNT)
    expires_at: dt.datetime | None = None
    grace_days: int | None = Field(None, ge=0, le=36_500)


class MemberRole(BaseModel):
    role: str = Role


class NewBucket(BaseModel):
    name: str = Field(min_length=3, max_length=63)


class BucketOut(BaseModel):
    name: str
    project: str


def _now(ctx: Ctx) -> int:
    return int(ctx.clock().timestamp() * 1_000_000)


@router.get("", response_model=ProjectPage, summary="List projects")
async def list_projects(
    caller: Caller,
    svc: Svc,
    ctx: Ctx,
    limit: int = Query(100, ge=1, le=1000),
    cursor: str | None = Query(None, max_length=128),
    needs_attention: bool = Query(False, description="only projects past expiry and grace"),
    mine: bool = Query(False, description="only projects the caller is a member of"),
) -> ProjectPage:
    """Administrators see every project, other users the projects they belong to."""
    now = _now(ctx)
    items: list[ProjectOut] = []
    after = cursor or ""
    more = False
    while True:  # a filtered page may need several reads
        found = await svc.directory.list_projects(
            user_of(caller), after=after, limit=limit + 1, everyone=not mine
        )
        more = len(found) > limit
        for project in found[:limit]:
            after = project.name
            if needs_attention and not project.needs_attention(now):
                continue
            items.append(ProjectOut.of(project, now))
        if len(items) >= limit or not more:
            break
    return ProjectPage(items=items, next=after if more else None)


@router.post(
    "",
    response_model=ProjectOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a project",
)
async def create_project(body: NewProject, caller: AdminCaller, svc: Svc, ctx: Ctx) -> ProjectOut:
    """A shared project with an optional quota, expiry and first admin (administrators)."""
    project = await svc.directory.create_project(
        user_of(caller),
        body.name,
        description=body.description,
        quota_bytes=body.quota_bytes,
        quota_objects=body.quota_objects,
        expires_at=micros(body.expires_at),
        grace_days=body.grace_days,
        admin=body.admin,
    )
    return ProjectOut.of(project, _now(ctx))


@router.get("/{name}", response_model=ProjectDetail, summary="Read a project")
async def get_project(name: str, caller: Caller, svc: Svc, ctx: Ctx) -> ProjectDetail:
    """A project, its members and buckets (its members and administrators)."""
    project = await svc.directory.get_project(user_of(caller), name)
    buckets = await svc.directory.bucket_names(project)
    return ProjectDetail(**ProjectOut.of(project, _now(ctx)).model_dump(), buckets=buckets)


@router.patch("/{name}", response_model=ProjectOut, summary="Change a project")
async def update_project(
    name: str, body: ProjectChange, caller: Caller, svc: Svc, ctx: Ctx
) -> ProjectOut:
    """Change quota, expiry or grace (administrators) or the description (project admins)."""
    changes: dict[str, Any] = {}
    for field in body.model_fields_set:
        value = getattr(body, field)
        if field == "expires_at":
            value = micros(value)
        elif value is None and field in ("description", "grace_days"):
            continue
        changes[field] = value
    project = await svc.directory.update_project(user_of(caller), name, **changes)
    return ProjectOut.of(project, _now(ctx))


@router.delete(
    "/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a project",
)
async def delete_project(name: str, caller: AdminCaller, svc: Svc) -> Response:
    """Delete a shared project that owns no bucket any more (administrators)."""
    await svc.directory.delete_project(user_of(caller), name)
    return Response(status_code=204)


@router.put("/{name}/members/{user}", response_model=ProjectOut, summary="Set a member's role")
async def set_member(
    name: str, user: str, body: MemberRole, caller: Caller, svc: Svc, ctx: Ctx
) -> ProjectOut:
    """Add a member or change their role (administrators and the project's admins)."""
    project = await svc.directory.set_project_member(user_of(caller), name, user, body.role)
    return ProjectOut.of(project, _now(ctx))


@router.delete("/{name}/members/{user}", response_model=ProjectOut, summary="Remove a member")
async def remove_member(name: str, user: str, caller: Caller, svc: Svc, ctx: Ctx) -> ProjectOut:
    """Remove a member; idempotent (administrators and the project's admins)."""
    project = await svc.directory.set_project_member(user_of(caller), name, user, None)
    return ProjectOut.of(project, _now(ctx))


@router.post(
    "/{name}/buckets",
    response_model=BucketOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a bucket in a project",
)
async def create_bucket(
    name: str, body: NewBucket, caller: Caller, svc: Svc, ctx: Ctx
) -> BucketOut:
    """A new bucket owned by the caller and belonging to the project (its admins and writers).

    S3 clients do the same with CreateBucket and the header `x-lading-project: NAME`.
    """
    user = user_of(caller)
    project_id = await svc.directory.project_for_new_bucket(user, name, _now(ctx))
    await svc.buckets.create_bucket(body.name, user, None, project_id=project_id)
    return BucketOut(name=body.name, project=name)
