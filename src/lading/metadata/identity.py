"""Queries of the identity aggregate: users' profile, groups, projects and project usage.

Shares the metadata store's engine and write helpers (group commits on SQLite). The object
change hook `UsageCounter` keeps each project's bytes and objects in the transaction of
every object write or delete, and refuses a write that would pass the project's quota.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa

from lading import errors
from lading.metadata import schema as t
from lading.metadata.hooks import ObjectChange
from lading.metadata.models import Bucket, ProjectAccess, User
from lading.metadata.shares import forget_group_shares
from lading.metadata.store import DriverQuery, MetadataStore, key_successor, now_us

PERSONAL_PREFIX = "personal-"  # a user's personal project is named personal-<user>
ROLES = ("admin", "writer", "reader")
_UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class Group:
    id: int
    name: str
    description: str
    created_at: int
    members: tuple[str, ...] = ()  # user names, sorted


@dataclass(frozen=True, slots=True)
class IamUser:
    """A Lading user created through the IAM API, bound by its attached policies."""

    user: User
    path: str
    policies: tuple[str, ...] = ()  # attached policy ARNs, sorted


@dataclass(frozen=True, slots=True)
class Project:
    id: int
    name: str
    description: str
    personal_user_id: int | None
    quota_bytes: int | None
    quota_objects: int | None
    expires_at: int | None  # epoch microseconds
    grace_days: int
    used_bytes: int
    used_objects: int
    created_at: int
    members: dict[str, str] = field(default_factory=dict)  # user name -> role

    @property
    def personal(self) -> bool:
        return self.personal_user_id is not None

    def needs_attention(self, now: int) -> bool:
        """Past its expiry and its grace period: an admin should archive or delete it."""
        if self.expires_at is None:
            return False
        return now >= self.expires_at + self.grace_days * 86_400_000_000

    def expired(self, now: int) -> bool:
        return self.expires_at is not None and now >= self.expires_at


@dataclass(frozen=True, slots=True)
class Sample:
    at: int
    bytes: int
    objects: int


def _project(row: Any, members: dict[str, str] | None = None) -> Project:
    return Project(
        id=row.id,
        name=row.name,
        description=row.description,
        personal_user_id=row.personal_user_id,
        quota_bytes=row.quota_bytes,
        quota_objects=row.quota_objects,
        expires_at=row.expires_at,
        grace_days=row.grace_days,
        used_bytes=row.used_bytes,
        used_objects=row.used_objects,
        created_at=row.created_at,
        members=members or {},
    )


def _user(row: Any) -> User:
    return User(
        row.id,
        row.name,
        row.display_name,
        bool(row.is_admin),
        row.created_at,
        row.email,
        bool(row.enabled),
    )


def _members(
    conn: sa.Connection, members: sa.Table, owner: str, ids: list[int]
) -> dict[int, list[tuple[str, str]]]:
    """(user name, role or "") of every member of the groups or projects `ids`, by name.

    One query for a whole page of groups or projects, not one per row."""
    m = members.c
    role = m.role if "role" in m else sa.literal("")
    found: dict[int, list[tuple[str, str]]] = {i: [] for i in ids}
    if ids:
        query = (
            sa.select(m[owner], t.users.c.name, role)
            .join(members, m.user_id == t.users.c.id)
            .where(m[owner].in_(ids))
            .order_by(t.users.c.name)
        )
        for owner_id, name, member_role in conn.execute(query):
            found[owner_id].append((name, member_role))
    return found


def _named_row(
    conn: sa.Connection, table: sa.Table, name: str, missing: Callable[[str], Exception]
) -> Any:
    row = conn.execute(sa.select(table).where(table.c.name == name)).first()
    if row is None:
        raise missing(name)
    return row


def _page(
    table: sa.Table, members: sa.Table, owner: str, after: str, limit: int, member: int | None
) -> sa.Select[Any]:
    """A page of groups or projects by name; with `member`, only those that user is in."""
    c = table.c
    query = sa.select(table).where(c.name > after).order_by(c.name).limit(limit)
    if member is not None:
        m = members.c
        query = query.where(c.id.in_(sa.select(m[owner]).where(m.user_id == member)))
    return query


def iso(micros: int) -> str:
    return dt.datetime.fromtimestamp(micros / 1e6, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_P = t.projects.c
# built once: building an UPDATE and its cache key per write costs more than running it
_COUNT_USAGE = (
    t.projects.update()
    .where(_P.id == sa.bindparam("p_project"))
    .values(
        used_bytes=_P.used_bytes + sa.bindparam("p_bytes", type_=sa.BigInteger),
        used_objects=_P.used_objects + sa.bindparam("p_objects", type_=sa.BigInteger),
    )
    .returning(_P.name, _P.used_bytes, _P.used_objects, _P.quota_bytes, _P.quota_objects)
)


class UsageCounter:
    """The object change hook keeping projects' usage counters; raises QuotaExceeded.

    One UPDATE per object write or delete, on the connection of the change: the counters
    commit or roll back with the object row, and a refused write leaves nothing behind.
    """

    def __init__(self) -> None:
        self._driver: DriverQuery | None = None  # on SQLite: the UPDATE, run on the driver

    def _count(self, conn: sa.Connection, params: dict[str, int]) -> Any:
        if conn.dialect.name != "sqlite":
            return conn.execute(_COUNT_USAGE, params).first()
        driver = self._driver
        if driver is None or driver.engine is not conn.engine:
            driver = self._driver = DriverQuery(conn.engine, _COUNT_USAGE)
        rows = driver.rows(conn, params)
        return rows[0] if rows else None

    def __call__(self, conn: sa.Connection, change: ObjectChange) -> None:
        project_id = change.bucket.project_id
        if project_id is None or change.kind == "updated":
            return
        sign = 1 if change.kind == "written" else -1
        version = change.version
        delta_bytes = 0 if version.is_delete_marker else sign * version.size
        delta_objects = 0 if version.is_delete_marker else sign
        replaced = change.replaced
        if replaced is not None and not replaced.is_delete_marker:
            delta_bytes -= replaced.size
            delta_objects -= 1
        if delta_bytes == 0 and delta_objects == 0:
            return
        params = {"p_project": project_id, "p_bytes": delta_bytes, "p_objects": delta_objects}
        row = self._count(conn, params)
        if row is None:
            return
        if delta_bytes > 0 and row.quota_bytes is not None and row.used_bytes > row.quota_bytes:
            raise errors.QuotaExceeded(row.name, f"{row.quota_bytes} bytes")
        if (
            delta_objects > 0
            and row.quota_objects is not None
            and row.used_objects > row.quota_objects
        ):
            raise errors.QuotaExceeded(row.name, f"{row.quota_objects} objects")


class Directory:
    """Users' profiles, groups, projects and their members, and usage records."""

    def __init__(self, meta: MetadataStore) -> None:
        self.meta = meta

    # --- users ---------------------------------------------------------------------------------

    def list_users(self, *, after: str = "", limit: int = 100) -> list[User]:
        c = t.users.c
        query = sa.select(t.users).where(c.name > after).order_by(c.name).limit(limit)
        with self.meta._read() as conn:
            return [_user(r) for r in conn.execute(query)]

    def get_user(self, name: str) -> User:
        """Raises NoSuchUser."""
        with self.meta._read() as conn:
            row = conn.execute(sa.select(t.users).where(t.users.c.name == name)).first()
        if row is None:
            raise errors.NoSuchUser(name)
        return _user(row)

    def users_with_email(self, email: str) -> list[User]:
        """The users whose e-mail address is `email` (compared without regard to case)."""
        if not email:
            return []
        c = t.users.c
        query = sa.select(t.users).where(sa.func.lower(c.email) == email.lower()).order_by(c.id)
        with self.meta._read() as conn:
            return [_user(r) for r in conn.execute(query)]

    def update_user(
        self,
        name: str,
        *,
        display_name: str | None = None,
        email: str | None = None,
        is_admin: bool | None = None,
        enabled: bool | None = None,
    ) -> User:
        """Change a user's profile; None leaves a field as it is. Raises NoSuchUser."""
        values: dict[str, Any] = {
            k: v
            for k, v in {
                "display_name": display_name,
                "email": email,
                "is_admin": is_admin,
                "enabled": enabled,
            }.items()
            if v is not None
        }

        def work(conn: sa.Connection) -> User:
            c = t.users.c
            if values:
                conn.execute(t.users.update().where(c.name == name).values(**values))
            row = conn.execute(sa.select(t.users).where(c.name == name)).first()
            if row is None:
                raise errors.NoSuchUser(name)
            return _user(row)

        return self.meta._write(work)

    # --- IAM users -----------------------------------------------------------------------------

    def create_iam_user(self, name: str, path: str, created_by: int) -> IamUser:
        """A new user (no keys, no project) marked as an IAM user; UserAlreadyExists."""

        def work(conn: sa.Connection) -> IamUser:
            if conn.execute(sa.select(t.users.c.id).where(t.users.c.name == name)).first():
                raise errors.UserAlreadyExists(name)
            row = conn.execute(
                t.users.insert()
                .values(name=name, display_name=name, is_admin=False, created_at=now_us())
                .returning(*t.users.c)
            ).one()
            conn.execute(
                t.iam_users.insert().values(user_id=row.id, path=path, created_by=created_by)
            )
            return IamUser(_user(row), path)

        return self.meta._write(work)

    def _iam_user(self, conn: sa.Connection, name: str) -> IamUser:
        u, i = t.users.c, t.iam_users.c
        row = conn.execute(
            sa.select(t.users, i.path)
            .select_from(t.users.join(t.iam_users, i.user_id == u.id))
            .where(u.name == name)
        ).first()
        if row is None:
            raise errors.NoSuchUser(name)
        return IamUser(_user(row), row.path, self._policies(conn, int(row.id)))

    @staticmethod
    def _policies(conn: sa.Connection, user_id: int) -> tuple[str, ...]:
        p = t.iam_user_policies.c
        query = sa.select(p.policy_arn).where(p.user_id == user_id).order_by(p.policy_arn)
        return tuple(conn.execute(query).scalars())

    def iam_user(self, name: str) -> IamUser:
        """Raises NoSuchUser for a name that is not an IAM user."""
        with self.meta._read() as conn:
            return self._iam_user(conn, name)

    def list_iam_users(self, path_prefix: str = "/") -> list[IamUser]:
        """IAM users whose path starts with `path_prefix`, by name."""
        u, i = t.users.c, t.iam_users.c
        query = (
            sa.select(t.users, i.path)
            .select_from(t.users.join(t.iam_users, i.user_id == u.id))
            .where(i.path.startswith(path_prefix, autoescape=True))
            .order_by(u.name)
        )
        with self.meta._read() as conn:
            return [IamUser(_user(r), r.path) for r in conn.execute(query)]

    def identity_policies(self, user_id: int) -> tuple[str, ...] | None:
        """The policy ARNs attached to an IAM user; None for a user that is not one."""
        with self.meta._read() as conn:
            found = conn.execute(
                sa.select(t.iam_users.c.user_id).where(t.iam_users.c.user_id == user_id)
            ).first()
            return None if found is None else self._policies(conn, user_id)

    def attach_policy(self, name: str, arn: str) -> IamUser:
        """Attach a policy to an IAM user (again: no change); NoSuchUser."""

        def work(conn: sa.Connection) -> IamUser:
            found = self._iam_user(conn, name)
            if arn not in found.policies:
                conn.execute(
                    t.iam_user_policies.insert().values(
                        user_id=found.user.id, policy_arn=arn, attached_at=now_us()
                    )
                )
            return self._iam_user(conn, name)

        return self.meta._write(work)

    def detach_policy(self, name: str, arn: str) -> IamUser:
        """Detach a policy; NoSuchUser, or NoSuchPolicy when it is not attached."""

        def work(conn: sa.Connection) -> IamUser:
            found = self._iam_user(conn, name)
            if arn not in found.policies:
                raise errors.NoSuchPolicy(arn)
            p = t.iam_user_policies.c
            conn.execute(
                t.iam_user_policies.delete().where(p.user_id == found.user.id, p.policy_arn == arn)
            )
            return self._iam_user(conn, name)

        return self.meta._write(work)

    def delete_iam_user(self, name: str) -> None:
        """Delete an IAM user: NoSuchUser; UserInUse while it has keys, policies or data."""

        def work(conn: sa.Connection) -> None:
            found = self._iam_user(conn, name)
            user_id = found.user.id
            if found.policies:
                raise errors.UserInUse(name, "detach its policies first")
            keys = sa.select(t.access_keys.c.access_key).where(t.access_keys.c.user_id == user_id)
            if conn.execute(keys.limit(1)).first() is not None:
                raise errors.UserInUse(name, "delete its access keys first")
            owned = sa.select(t.buckets.c.id).where(t.buckets.c.owner_id == user_id)
            if conn.execute(owned.limit(1)).first() is not None:
                raise errors.UserInUse(name, "it owns buckets")
            conn.execute(t.users.delete().where(t.users.c.id == user_id))

        self.meta._write(work)

    def personal_project_id(self, user: User) -> int:
        """The user's personal project, created (with the user as its admin) when missing."""
        c = t.projects.c
        with self.meta._read() as conn:
            found = conn.execute(sa.select(c.id).where(c.personal_user_id == user.id)).scalar()
        if found is not None:
            return int(found)

        def work(conn: sa.Connection) -> int:
            existing = conn.execute(sa.select(c.id).where(c.personal_user_id == user.id)).scalar()
            if existing is not None:
                return int(existing)
            project_id = conn.execute(
                t.projects.insert()
                .values(
                    name=PERSONAL_PREFIX + user.name,
                    description=f"{user.name}'s personal project",
                    personal_user_id=user.id,
                    created_at=now_us(),
                )
                .returning(c.id)
            ).scalar_one()
            conn.execute(
                t.project_members.insert().values(
                    project_id=project_id, user_id=user.id, role="admin"
                )
            )
            return int(project_id)

        return self.meta._write(work)

    # --- groups --------------------------------------------------------------------------------

    def create_group(self, name: str, description: str = "") -> Group:
        """Raises GroupAlreadyExists."""

        def work(conn: sa.Connection) -> Group:
            c = t.groups.c
            if conn.execute(sa.select(c.id).where(c.name == name)).first():
                raise errors.GroupAlreadyExists(name)
            row = conn.execute(
                t.groups.insert()
                .values(name=name, description=description, created_at=now_us())
                .returning(*t.groups.c)
            ).one()
            return Group(row.id, row.name, row.description, row.created_at)

        try:
            return self.meta._write(work)
        except sa.exc.IntegrityError as exc:
            raise errors.GroupAlreadyExists(name) from exc

    def _group_row(self, conn: sa.Connection, name: str) -> Any:
        return _named_row(conn, t.groups, name, errors.NoSuchGroup)

    @staticmethod
    def _groups(conn: sa.Connection, rows: Sequence[Any]) -> list[Group]:
        members = _members(conn, t.group_members, "group_id", [r.id for r in rows])
        return [
            Group(r.id, r.name, r.description, r.created_at, tuple(n for n, _ in members[r.id]))
            for r in rows
        ]

    def _group(self, conn: sa.Connection, row: Any) -> Group:
        return self._groups(conn, [row])[0]

    def get_group(self, name: str) -> Group:
        """The group and its members; raises NoSuchGroup."""
        with self.meta._read() as conn:
            return self._group(conn, self._group_row(conn, name))

    def list_groups(
        self, *, after: str = "", limit: int = 100, member: int | None = None
    ) -> list[Group]:
        """Groups by name after `after`; with `member`, only the groups that user is in."""
        query = _page(t.groups, t.group_members, "group_id", after, limit, member)
        with self.meta._read() as conn:
            return self._groups(conn, conn.execute(query).all())

    def delete_group(self, name: str) -> None:
        """Raises NoSuchGroup."""

        def work(conn: sa.Connection) -> None:
            row = self._group_row(conn, name)
            conn.execute(t.group_members.delete().where(t.group_members.c.group_id == row.id))
            # its shares go too: SQLite may give a later group the same id
            forget_group_shares(conn, row.id)
            conn.execute(t.groups.delete().where(t.groups.c.id == row.id))

        self.meta._write(work)

    def set_group_member(self, group: str, user: str, member: bool) -> Group:
        """Add (member=True) or remove a user; idempotent. Raises NoSuchGroup, NoSuchUser."""

        def work(conn: sa.Connection) -> Group:
            row = self._group_row(conn, group)
            user_id = self._user_id(conn, user)
            m = t.group_members.c
            conn.execute(t.group_members.delete().where(m.group_id == row.id, m.user_id == user_id))
            if member:
                conn.execute(t.group_members.insert().values(group_id=row.id, user_id=user_id))
            return self._group(conn, row)

        return self.meta._write(work)

    def group_ids_of(self, user_id: int) -> frozenset[int]:
        """The ids of the groups a user belongs to."""
        m = t.group_members.c
        with self.meta._read() as conn:
            return frozenset(
                conn.execute(sa.select(m.group_id).where(m.user_id == user_id)).scalars()
            )

    @staticmethod
    def _user_id(conn: sa.Connection, name: str) -> int:
        found = conn.execute(sa.select(t.users.c.id).where(t.users.c.name == name)).scalar()
        if found is None:
            raise errors.NoSuchUser(name)
        return int(found)

    # --- projects ------------------------------------------------------------------------------

    def create_project(
        self,
        name: str,
        *,
        description: str = "",
        quota_bytes: int | None = None,
        quota_objects: int | None = None,
        expires_at: int | None = None,
        grace_days: int = 30,
        admin: User | None = None,
    ) -> Project:
        """A shared project (with `admin` as its first admin); raises ProjectAlreadyExists."""

        def work(conn: sa.Connection) -> Project:
            c = t.projects.c
            if conn.execute(sa.select(c.id).where(c.name == name)).first():
                raise errors.ProjectAlreadyExists(name)
            row = conn.execute(
                t.projects.insert()
                .values(
                    name=name,
                    description=description,
                    quota_bytes=quota_bytes,
                    quota_objects=quota_objects,
                    expires_at=expires_at,
                    grace_days=grace_days,
                    created_at=now_us(),
                )
                .returning(*t.projects.c)
            ).one()
            if admin is not None:
                conn.execute(
                    t.project_members.insert().values(
                        project_id=row.id, user_id=admin.id, role="admin"
                    )
                )
            return self._load_project(conn, row)

        try:
            return self.meta._write(work)
        except sa.exc.IntegrityError as exc:
            raise errors.ProjectAlreadyExists(name) from exc

    def _project_row(self, conn: sa.Connection, name: str) -> Any:
        return _named_row(conn, t.projects, name, errors.NoSuchProject)

    @staticmethod
    def _projects(conn: sa.Connection, rows: Sequence[Any]) -> list[Project]:
        members = _members(conn, t.project_members, "project_id", [r.id for r in rows])
        return [_project(r, dict(members[r.id])) for r in rows]

    def _load_project(self, conn: sa.Connection, row: Any) -> Project:
        return self._projects(conn, [row])[0]

    def get_project(self, name: str) -> Project:
        """The project with its members; raises NoSuchProject."""
        with self.meta._read() as conn:
            return self._load_project(conn, self._project_row(conn, name))

    def get_project_by_id(self, project_id: int) -> Project:
        with self.meta._read() as conn:
            row = conn.execute(sa.select(t.projects).where(t.projects.c.id == project_id)).first()
            if row is None:
                raise errors.NoSuchProject(str(project_id))
            return self._load_project(conn, row)

    def list_projects(
        self, *, after: str = "", limit: int = 100, member: int | None = None
    ) -> list[Project]:
        """Projects by name after `after`; with `member`, only those the user belongs to."""
        query = _page(t.projects, t.project_members, "project_id", after, limit, member)
        with self.meta._read() as conn:
            return self._projects(conn, conn.execute(query).all())

    def all_projects(self) -> list[Project]:
        """Every project, members left out (the usage pass)."""
        with self.meta._read() as conn:
            return [
                _project(r) for r in conn.execute(sa.select(t.projects).order_by(t.projects.c.id))
            ]

    def claim_attention_notice(self, project_id: int, expires_at: int) -> bool:
        """Mark that administrators are told about this expiry of the project; False when they
        already were (by this pass or another process's)."""
        c = t.projects.c

        def work(conn: sa.Connection) -> bool:
            done = conn.execute(
                t.projects.update()
                .where(c.id == project_id)
                .where(
                    sa.or_(c.attention_notice_for.is_(None), c.attention_notice_for != expires_at)
                )
                .values(attention_notice_for=expires_at)
            )
            return done.rowcount == 1

        return self.meta._write(work)

    def administrators(self) -> list[User]:
        """The enabled administrators, by name."""
        u = t.users.c
        query = sa.select(t.users).where(u.is_admin.is_(True), u.enabled.is_(True)).order_by(u.name)
        with self.meta._read() as conn:
            return [_user(row) for row in conn.execute(query)]

    def update_project(
        self,
        name: str,
        *,
        description: str | None = None,
        quota_bytes: int | None = _UNSET,
        quota_objects: int | None = _UNSET,
        expires_at: int | None = _UNSET,
        grace_days: int | None = None,
    ) -> Project:
        """Change a project; a quota or expiry given as None is removed. Raises NoSuchProject."""
        values: dict[str, Any] = {}
        if description is not None:
            values["description"] = description
        if grace_days is not None:
            values["grace_days"] = grace_days
        for column, value in (
            ("quota_bytes", quota_bytes),
            ("quota_objects", quota_objects),
            ("expires_at", expires_at),
        ):
            if value is not _UNSET:
                values[column] = value

        def work(conn: sa.Connection) -> Project:
            row = self._project_row(conn, name)
            if values:
                conn.execute(t.projects.update().where(t.projects.c.id == row.id).values(**values))
                row = self._project_row(conn, name)
            return self._load_project(conn, row)

        return self.meta._write(work)

    def delete_project(self, name: str) -> None:
        """Delete a shared project that owns no bucket; raises NoSuchProject or Conflict."""

        def work(conn: sa.Connection) -> None:
            row = self._project_row(conn, name)
            if row.personal_user_id is not None:
                raise errors.Conflict(f"The project {name!r} is a personal project.")
            if conn.execute(
                sa.select(t.buckets.c.id).where(t.buckets.c.project_id == row.id).limit(1)
            ).first():
                raise errors.Conflict(f"The project {name!r} still owns buckets.")
            conn.execute(t.projects.delete().where(t.projects.c.id == row.id))

        self.meta._write(work)

    def set_project_member(self, project: str, user: str, role: str | None) -> Project:
        """Give a user a role in the project (None: remove them). Raises NoSuchProject/User."""
        if role is not None and role not in ROLES:
            raise errors.InvalidArgument(f"A role is one of {', '.join(ROLES)}, not {role!r}.")

        def work(conn: sa.Connection) -> Project:
            row = self._project_row(conn, project)
            user_id = self._user_id(conn, user)
            m = t.project_members.c
            conn.execute(
                t.project_members.delete().where(m.project_id == row.id, m.user_id == user_id)
            )
            if role is not None:
                conn.execute(
                    t.project_members.insert().values(project_id=row.id, user_id=user_id, role=role)
                )
            return self._load_project(conn, row)

        return self.meta._write(work)

    def project_access(self, project_id: int) -> ProjectAccess | None:
        """What authorization and quota checks need of a project (None: it is gone)."""
        m = t.project_members.c
        with self.meta._read() as conn:
            row = conn.execute(sa.select(t.projects).where(t.projects.c.id == project_id)).first()
            if row is None:
                return None
            roles = dict(
                conn.execute(sa.select(m.user_id, m.role).where(m.project_id == project_id)).all()
            )
        return ProjectAccess(
            row.id,
            row.name,
            MappingProxyType(roles),
            row.expires_at,
            row.quota_bytes,
            row.quota_objects,
        )

    def visible_buckets(
        self, user_id: int, *, prefix: str = "", after: str = "", limit: int | None = None
    ) -> list[Bucket]:
        """Buckets the user owns or whose project they belong to, in name order."""
        c = t.buckets.c
        m = t.project_members.c
        member_of = sa.select(m.project_id).where(m.user_id == user_id)
        query = self.meta._bucket_query().where(
            sa.or_(c.owner_id == user_id, c.project_id.in_(member_of))
        )
        if prefix:
            query = query.where(c.name >= prefix)
            upper = key_successor(prefix)
            if upper is not None:
                query = query.where(c.name < upper)
        if after:
            query = query.where(c.name > after)
        query = query.order_by(c.name)
        if limit is not None:
            query = query.limit(limit)
        with self.meta._read() as conn:
            return [self.meta._bucket(r) for r in conn.execute(query)]

    def bucket_names(self, project_id: int) -> list[str]:
        c = t.buckets.c
        with self.meta._read() as conn:
            return list(
                conn.execute(
                    sa.select(c.name).where(c.project_id == project_id).order_by(c.name)
                ).scalars()
            )

    def used(self, project_id: int) -> tuple[int, int]:
        """The project's bytes and objects stored now."""
        c = t.projects.c
        with self.meta._read() as conn:
            row = conn.execute(
                sa.select(c.used_bytes, c.used_objects).where(c.id == project_id)
            ).first()
        return (int(row.used_bytes), int(row.used_objects)) if row is not None else (0, 0)

    def check_room(self, project: ProjectAccess, size: int) -> None:
        """Raise QuotaExceeded when `size` more bytes would pass the project's byte quota."""
        if project.quota_bytes is None:
            return
        used, _objects = self.used(project.id)
        if used + size > project.quota_bytes:
            raise errors.QuotaExceeded(project.name, f"{project.quota_bytes} bytes")

    # --- usage records -------------------------------------------------------------------------

    def record_samples(self, at: int) -> int:
        """Sample every project's bytes and objects at `at`; returns how many were taken."""

        def work(conn: sa.Connection) -> int:
            c = t.projects.c
            rows = conn.execute(sa.select(c.id, c.used_bytes, c.used_objects)).all()
            s = t.usage_samples.c
            conn.execute(t.usage_samples.delete().where(s.at == at))
            if rows:
                conn.execute(
                    t.usage_samples.insert(),
                    [
                        {
                            "project_id": r.id,
                            "at": at,
                            "bytes": r.used_bytes,
                            "objects": r.used_objects,
                        }
                        for r in rows
                    ],
                )
            return len(rows)

        return self.meta._write(work)

    def record_traffic(self, at: int, counts: Iterable[tuple[int, int, int]]) -> None:
        """Store (project id, requests, bytes downloaded) counted since the last flush."""
        rows = [
            {"project_id": p, "at": at, "requests": r, "bytes_out": b}
            for p, r, b in counts
            if r or b
        ]
        if not rows:
            return

        def work(conn: sa.Connection) -> None:
            known = set(
                conn.execute(
                    sa.select(t.projects.c.id).where(
                        t.projects.c.id.in_([r["project_id"] for r in rows])
                    )
                ).scalars()
            )
            kept = [r for r in rows if r["project_id"] in known]  # a project deleted meanwhile
            if kept:
                conn.execute(t.usage_traffic.insert(), kept)

        self.meta._write(work)

    def samples(self, project_id: int, before: int) -> list[Sample]:
        """The project's samples taken before `before`, oldest first."""
        s = t.usage_samples.c
        with self.meta._read() as conn:
            return [
                Sample(r.at, r.bytes, r.objects)
                for r in conn.execute(
                    sa.select(s.at, s.bytes, s.objects)
                    .where(s.project_id == project_id, s.at < before)
                    .order_by(s.at)
                )
            ]

    def traffic(self, project_id: int, start: int, end: int) -> tuple[int, int]:
        """Requests and bytes downloaded counted in [start, end)."""
        u = t.usage_traffic.c
        with self.meta._read() as conn:
            row = conn.execute(
                sa.select(
                    sa.func.coalesce(sa.func.sum(u.requests), 0),
                    sa.func.coalesce(sa.func.sum(u.bytes_out), 0),
                ).where(u.project_id == project_id, u.at >= start, u.at < end)
            ).one()
        return int(row[0]), int(row[1])
