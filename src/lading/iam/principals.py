"""Who is making a request."""

from __future__ import annotations

from dataclasses import dataclass

from lading.metadata.models import User


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated user, or anonymous when user is None."""

    user: User | None
    access_key: str | None = None
    # ids of the user's groups, looked up only when a bucket has a share to a group
    groups: frozenset[int] = frozenset()
    # an IAM user's attached policy ARNs, which bound everything it does; None: a user that
    # is not an IAM user (ownership, shares and bucket policies alone decide)
    policies: tuple[str, ...] | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.user is None


ANONYMOUS = Principal(None)
