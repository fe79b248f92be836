"""Work done inside the transaction that changes an object version (catalog index, event outbox).

A hook sees every committed change exactly as the metadata store makes it, on the same
connection and in the same transaction: what it writes commits or rolls back with the object
row, so an index or an outbox never disagrees with the objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import sqlalchemy as sa

from lading.metadata.models import Bucket, ObjectVersion

ChangeKind = Literal["written", "removed", "updated"]


@dataclass(frozen=True, slots=True)
class Origin:
    """The API request behind a change, as S3 event records report it."""

    source_ip: str = ""
    request_id: str = ""


@dataclass(frozen=True, slots=True)
class ObjectChange:
    """One change to one object version.

    `kind` is "written" (a new version or delete marker became current), "removed" (a version
    was deleted), or "updated" (tags, ACL or lock changed in place). `cause` names what did it
    in S3's event vocabulary: "Put", "Post", "Copy", "CompleteMultipartUpload" (written),
    "Delete", "LifecycleExpiration" (written delete markers, removed versions),
    "ObjectTagging:Put", "ObjectTagging:Delete", "ObjectAcl:Put", "ObjectRetention:Put",
    "ObjectLegalHold:Put" (updated); the store passes on what its caller said.
    """

    kind: ChangeKind
    bucket: Bucket
    version: ObjectVersion
    cause: str
    # "written" only: the version of the same id this write replaced (an unversioned
    # overwrite of the `null` version), which is gone now
    replaced: ObjectVersion | None = None
    # the request that asked for the change; None for the server's own (lifecycle, ...)
    origin: Origin | None = None


class ChangeHook(Protocol):
    def __call__(self, conn: sa.Connection, change: ObjectChange) -> None:
        """Record `change` on `conn`; raising rolls the whole change back."""
