"""The caller's own identity in IAM's terms, for clients that ask who they are.

Each Lading user is an account of its own (its topics' ARNs name it as the account), so
`iam:GetUser` answers the caller as that account's root, `arn:aws:iam::USER:root`, and the
listings of IAM users, groups, roles and OIDC providers inside it are empty. Nothing here
creates or changes anything; the other IAM actions answer InvalidAction.
"""

from __future__ import annotations

from lading import errors
from lading.http.s3 import xml
from lading.metadata.models import User

ACTIONS = frozenset(
    {"GetUser", "ListUsers", "ListGroups", "ListRoles", "ListOpenIDConnectProviders"}
)
_EMPTY = {
    "ListUsers": "Users",
    "ListGroups": "Groups",
    "ListRoles": "Roles",
    "ListOpenIDConnectProviders": "OpenIDConnectProviderList",
}


def user_arn(user: User) -> str:
    return f"arn:aws:iam::{user.name}:root"


def answer(action: str, form: dict[str, str], caller: User) -> list[str]:
    """The result elements of one read-only IAM action about the caller's account."""
    if action == "GetUser":
        wanted = form.get("UserName")
        if wanted and wanted != caller.name:
            raise errors.NoSuchUser(wanted)
        return xml.iam_user(caller.name, user_arn(caller), caller.created_at)
    listed = _EMPTY[action]
    return xml.iam_empty_list(listed, truncated=action != "ListOpenIDConnectProviders")
