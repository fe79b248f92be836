"""Users' profiles, groups and projects, with who may manage what.

System administrators manage everything. A project's admins manage its members; every member
may read the project. Anyone authenticated may read groups (shares name them).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from lading import errors
from lading.concurrency import run_blocking
from lading.metadata.identity import PERSONAL_PREFIX, ROLES, Directory, Group, Project, iso
from lading.metadata.models import User

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
MAX_PAGE = 1000


def validate_name(kind: str, name: str) -> None:
    """Raise InvalidArgument unless name is 1 to 64 letters, digits, '.', '_' or '-'."""
    if not _NAME.match(name):
        raise errors.InvalidArgument(
            f"A {kind} name is 1 to 64 letters, digits, '.', '_' and '-', starting with a "
            f"letter or digit: {name!r} is not."
        )


def validate_email(email: str) -> None:
    if email and (len(email) > 255 or not _EMAIL.match(email)):
        raise errors.InvalidArgument(f"{email!r} is not an email address.")


def require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise errors.AccessDenied("Only an administrator may do this.")


class DirectoryService:
    """Manage users' profiles, groups, projects and project members."""

    def __init__(self, directory: Directory, on_change: Callable[[], None] = lambda: None) -> None:
        self.directory = directory
        self.on_change = on_change  # a project changed: drop what this process cached of it

    # --- users ---------------------------------------------------------------------------------

    async def list_users(self, actor: User, *, after: str = "", limit: int = 100) -> list[User]:
        require_admin(actor)
        return await run_blocking(
            lambda: self.directory.list_users(after=after, limit=min(limit, MAX_PAGE))
        )

    async def get_user(self, actor: User, name: str) -> User:
        """A user's profile: administrators see everyone, users themselves."""
        if not actor.is_admin and actor.name != name:
            raise errors.AccessDenied("Only an administrator may read other users.")
        return await run_blocking(self.directory.get_user, name)

    async def update_user(
        self,
        actor: User,
        name: str,
        *,
        display_name: str | None = None,
        email: str | None = None,
        is_admin: bool | None = None,
        enabled: bool | None = None,
    ) -> User:
        """Users change their own display name and email; the rest is for administrators."""
        if not actor.is_admin and (
            actor.name != name or is_admin is not None or enabled is not None
        ):
            raise errors.AccessDenied("Only an administrator may change this.")
        if email is not None:
            validate_email(email)
        if display_name is not None and len(display_name) > 255:
            raise errors.InvalidArgument("A display name is at most 255 characters.")
        if actor.name == name and (is_admin is False or enabled is False):
            raise errors.InvalidArgument("Administrators cannot demote or disable themselves.")
        return await run_blocking(
            lambda: self.directory.update_user(
                name, display_name=display_name, email=email, is_admin=is_admin, enabled=enabled
            )
        )

    # --- groups --------------------------------------------------------------------------------

    async def create_group(self, actor: User, name: str, description: str = "") -> Group:
        require_admin(actor)
        validate_name("group", name)
        return await run_blocking(self.directory.create_group, name, description)

    async def delete_group(self, actor: User, name: str) -> None:
        require_admin(actor)
        await run_blocking(self.directory.delete_group, name)

    async def get_group(self, actor: User, name: str) -> Group:
        return await run_blocking(self.directory.get_group, name)

    async def list_groups(self, actor: User, *, after: str = "", limit: int = 100) -> list[Group]:
        return await run_blocking(
            lambda: self.directory.list_groups(after=after, limit=min(limit, MAX_PAGE))
        )

    async def set_group_member(self, actor: User, group: str, user: str, member: bool) -> Group:
        require_admin(actor)
        return await run_blocking(self.directory.set_group_member, group, user, member)

    # --- projects ------------------------------------------------------------------------------

    async def create_project(
        self,
        actor: User,
        name: str,
        *,
        description: str = "",
        quota_bytes: int | None = None,
        quota_objects: int | None = None,
        expires_at: int | None = None,
        grace_days: int = 30,
        admin: str | None = None,
    ) -> Project:
        """A shared project; `admin` (default: nobody) becomes its first project admin."""
        require_admin(actor)
        validate_name("project", name)
        if name.startswith(PERSONAL_PREFIX):
            raise errors.InvalidArgument(
                f"Project names starting with {PERSONAL_PREFIX!r} are kept for personal projects."
            )
        _check_limits(quota_bytes, quota_objects, grace_days)
        first = await run_blocking(self.directory.get_user, admin) if admin else None
        return await run_blocking(
            lambda: self.directory.create_project(
                name,
                description=description,
                quota_bytes=quota_bytes,
                quota_objects=quota_objects,
                expires_at=expires_at,
                grace_days=grace_days,
                admin=first,
            )
        )

    async def get_project(self, actor: User, name: str) -> Project:
        """Members and administrators may read a project; others are told it does not exist."""
        project = await run_blocking(self.directory.get_project, name)
        if not actor.is_admin and actor.name not in project.members:
            raise errors.NoSuchProject(name)
        return project

    async def list_projects(
        self, actor: User, *, after: str = "", limit: int = 100, everyone: bool = True
    ) -> list[Project]:
        """Administrators see every project (unless `everyone` is False), others their own."""
        member = None if actor.is_admin and everyone else actor.id
        return await run_blocking(
            lambda: self.directory.list_projects(
                after=after, limit=min(limit, MAX_PAGE), member=member
            )
        )

    async def update_project(self, actor: User, name: str, **changes: Any) -> Project:
        """Quota, expiry and grace are for administrators; project admins edit the description."""
        project = await self.get_project(actor, name)
        if not actor.is_admin and (
            set(changes) - {"description"} or project.members.get(actor.name) != "admin"
        ):
            raise errors.AccessDenied("Only an administrator may change a project's limits.")
        _check_limits(
            changes.get("quota_bytes"), changes.get("quota_objects"), changes.get("grace_days")
        )
        updated = await run_blocking(lambda: self.directory.update_project(name, **changes))
        self.on_change()
        return updated

    async def delete_project(self, actor: User, name: str) -> None:
        require_admin(actor)
        await run_blocking(self.directory.delete_project, name)
        self.on_change()

    async def set_project_member(
        self, actor: User, project: str, user: str, role: str | None
    ) -> Project:
        """Administrators and the project's admins set members' roles (None removes)."""
        found = await self.get_project(actor, project)
        if not actor.is_admin and found.members.get(actor.name) != "admin":
            raise errors.AccessDenied("Only the project's admins may change its members.")
        if role is not None and role not in ROLES:
            raise errors.InvalidArgument(f"A role is one of {', '.join(ROLES)}, not {role!r}.")
        updated = await run_blocking(self.directory.set_project_member, project, user, role)
        self.on_change()
        return updated

    async def project_for_new_bucket(self, actor: User, name: str, now_us: int) -> int:
        """The id of a project the actor may create a bucket in (admin or writer, not expired)."""
        project = await run_blocking(self.directory.get_project, name)
        role = project.members.get(actor.name)
        if not actor.is_admin and role not in ("admin", "writer"):
            if role is None:
                raise errors.NoSuchProject(name)
            raise errors.AccessDenied(f"Creating buckets in {name!r} needs the writer role.")
        if project.expired(now_us or time.time_ns() // 1000):
            raise errors.ProjectExpired(name, iso(project.expires_at or 0))
        return project.id

    async def bucket_names(self, project: Project) -> list[str]:
        return await run_blocking(self.directory.bucket_names, project.id)


def _check_limits(quota_bytes: int | None, quota_objects: int | None, grace: int | None) -> None:
    for what, value in (("quota_bytes", quota_bytes), ("quota_objects", quota_objects)):
        if value is not None and value < 0:
            raise errors.InvalidArgument(f"{what} must not be negative.")
    if grace is not None and not 0 <= grace <= 36_500:
        raise errors.InvalidArgument("grace_days must be between 0 and 36500.")
