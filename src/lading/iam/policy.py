"""Authorization, decided in one place for every S3 operation.

For now a bucket belongs to its owner alone: the owner may do everything with it and its
objects, any other principal is denied. Later issues add project roles, ACLs, bucket policies
and shares here, still evaluated as explicit deny, then allow, else deny.
"""

from __future__ import annotations

import enum

from lading import errors
from lading.iam.principals import Principal
from lading.metadata.models import Bucket


class Action(enum.Enum):
    """Classes of S3 operations, as authorization sees them."""

    LIST_BUCKETS = "s3:ListAllMyBuckets"
    CREATE_BUCKET = "s3:CreateBucket"
    DELETE_BUCKET = "s3:DeleteBucket"
    READ_BUCKET = "s3:ListBucket"  # list objects, versions, uploads; head bucket; location
    READ_OBJECT = "s3:GetObject"
    WRITE_OBJECT = "s3:PutObject"  # put, copy destination, multipart
    DELETE_OBJECT = "s3:DeleteObject"


def authorize(principal: Principal, action: Action, bucket: Bucket | None = None) -> None:
    """Raise AccessDenied unless principal may perform action (on bucket)."""
    if principal.user is None:
        raise errors.AccessDenied()
    if action in (Action.LIST_BUCKETS, Action.CREATE_BUCKET):
        return
    if bucket is None or bucket.owner.id != principal.user.id:
        raise errors.AccessDenied()
