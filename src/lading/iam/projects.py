"""What a project role allows in the project's buckets, and the read-only state of expiry.

Pure functions over the ProjectAccess record loaded (and cached) with the bucket: deciding
costs a dict lookup, never a query.

    admin   everything in the project's buckets, configurations and ACLs included
    writer  read and list; write and delete objects
    reader  read and list
"""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING

from lading import errors
from lading.metadata.models import ProjectAccess, User

if TYPE_CHECKING:
    from lading.iam.policy import Action

_READER = frozenset({"read-bucket", "read-object"})
_WRITER = _READER | {"write-object", "delete-object"}
# what stays possible in the buckets of an expired project
READS = frozenset(
    {
        "list-buckets",
        "read-bucket",
        "read-object",
        "read-bucket-acp",
        "read-object-acp",
        "read-bucket-config",
    }
)


def role_allows(role: str | None, action: Action) -> bool:
    """Whether a member with `role` may do `action` in the project's buckets."""
    if role == "admin":
        return True
    if role == "writer":
        return action.value in _WRITER
    if role == "reader":
        return action.value in _READER
    return False


def member_allows(project: ProjectAccess | None, user: User | None, action: Action) -> bool:
    """Whether the user's role in the bucket's project admits `action`."""
    if project is None or user is None:
        return False
    return role_allows(project.roles.get(user.id), action)


def refuse_if_read_only(project: ProjectAccess | None, action: Action, now_us: int) -> None:
    """Raise ProjectExpired for a change to a bucket of a project past its expiry date.

    `now_us` 0 means the current time.
    """
    if project is None or project.expires_at is None or action.value in READS:
        return
    now = now_us or time.time_ns() // 1000
    if now >= project.expires_at:
        moment = dt.datetime.fromtimestamp(project.expires_at / 1e6, dt.UTC)
        raise errors.ProjectExpired(project.name, moment.strftime("%Y-%m-%dT%H:%M:%SZ"))
