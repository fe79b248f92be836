"""The IAM query API on the S3 endpoint: the caller's identity, and IAM users.

Each Lading user is an account of its own (its topics' ARNs name it as the account), so
`iam:GetUser` answers such a caller as that account's root, `arn:aws:iam::USER:root`.
Administrators manage IAM users (and alone see them listed) with the subset of IAM that
clients use: CreateUser, GetUser, ListUsers, DeleteUser; CreateAccessKey, ListAccessKeys,
DeleteAccessKey; AttachUserPolicy, DetachUserPolicy, ListAttachedUserPolicies and
ListUserPolicies. An IAM user is a Lading user whose every request is bounded by its
attached policies, which are AWS managed policies (`lading.iam.managed`);
`lading.iam.policy` evaluates them. Inline policies, groups, roles and other IAM actions
answer an IAM error (InvalidAction). IAM users reach the S3, SNS and IAM APIs, not the
control API.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from lading import errors
from lading.concurrency import run_blocking
from lading.http.s3 import xml
from lading.iam import managed
from lading.iam import policy_language as pl
from lading.metadata.identity import IamUser
from lading.metadata.models import User
from lading.services.container import Services
from lading.services.directory import require_admin

ACTIONS = frozenset(
    {
        "GetUser",
        "ListUsers",
        "CreateUser",
        "DeleteUser",
        "CreateAccessKey",
        "ListAccessKeys",
        "DeleteAccessKey",
        "AttachUserPolicy",
        "DetachUserPolicy",
        "ListAttachedUserPolicies",
        "ListUserPolicies",
        "ListGroups",
        "ListRoles",
        "ListOpenIDConnectProviders",
    }
)
_EMPTY = {
    "ListGroups": "Groups",
    "ListRoles": "Roles",
    "ListOpenIDConnectProviders": "OpenIDConnectProviderList",
}
_USER_NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")  # IAM's names that are Lading names too
_PATH = re.compile(r"^/(?:[\x21-\x7e]*/)?$")
_PATH_PREFIX = re.compile(r"^/[\x21-\x7e]*$")


def user_arn(user: User) -> str:
    return f"arn:aws:iam::{user.name}:root"


def iam_user_arn(found: IamUser) -> str:
    return f"arn:aws:iam::{pl.ACCOUNT}:user{found.path}{found.user.name}"


def _need(form: Mapping[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise errors.InvalidArgument(f"{name} is required.")
    return value


def _user_name(form: Mapping[str, str]) -> str:
    name = _need(form, "UserName")
    if not _USER_NAME.match(name):
        raise errors.InvalidArgument(
            f"The user name {name!r} is not valid: 1 to 64 letters, digits and . _ @ -"
        )
    return name


def _path(form: Mapping[str, str], name: str, *, prefix: bool = False) -> str:
    """A Path ("/", "/team/") or a PathPrefix ("/", "/te"); InvalidArgument otherwise."""
    path = form.get(name) or "/"
    if len(path) > 512 or not (_PATH_PREFIX if prefix else _PATH).match(path):
        ends = "begin" if prefix else "begin and end"
        raise errors.InvalidArgument(f"{name} {path!r} must {ends} with '/'.")
    return path


def _user_xml(found: IamUser) -> str:
    return xml.iam_user_fields(
        found.user.name, iam_user_arn(found), found.user.created_at, found.path
    )


async def answer(
    action: str,
    form: Mapping[str, str],
    caller: User,
    policies: tuple[str, ...] | None,
    services: Services,
) -> list[str] | None:
    """The result elements of one IAM action (None: an action without a result)."""
    directory = services.directory.directory
    if action == "GetUser":
        wanted = form.get("UserName")
        if policies is not None and wanted in (None, "", caller.name):  # an IAM user itself
            return [
                f"<User>{_user_xml(await run_blocking(directory.iam_user, caller.name))}</User>"
            ]
        if not wanted or wanted == caller.name:
            return xml.iam_user(caller.name, user_arn(caller), caller.created_at)
        require_admin(caller)
        return [f"<User>{_user_xml(await run_blocking(directory.iam_user, wanted))}</User>"]
    if action in _EMPTY:
        listed = _EMPTY[action]
        return xml.iam_empty_list(listed, truncated=action != "ListOpenIDConnectProviders")
    if action == "ListUsers":
        prefix = _path(form, "PathPrefix", prefix=True)
        if not caller.is_admin:  # the account of a user who is no administrator has none
            return xml.iam_list("Users", [])
        found = await run_blocking(directory.list_iam_users, prefix)
        return xml.iam_list("Users", [_user_xml(u) for u in found])
    require_admin(caller)  # everything below manages IAM users
    if action == "CreateUser":
        name, path = _user_name(form), _path(form, "Path")
        created = await run_blocking(directory.create_iam_user, name, path, caller.id)
        return [f"<User>{_user_xml(created)}</User>"]
    name = _user_name(form)
    user = await run_blocking(directory.iam_user, name)
    if action == "DeleteUser":
        await run_blocking(directory.delete_iam_user, name)
        await run_blocking(services.identity.forget_user_keys, user.user.id)
        return None
    if action == "CreateAccessKey":
        key = await services.credentials.create_key(user.user)
        return [
            xml.iam_access_key(name, key.record.access_key, key.record.created_at, key.secret_key)
        ]
    if action == "ListAccessKeys":
        keys = await services.credentials.list_keys(user.user)
        return xml.iam_list(
            "AccessKeyMetadata",
            [xml.iam_access_key_fields(name, k.access_key, k.created_at, k.status) for k in keys],
        )
    if action == "DeleteAccessKey":
        access_key = _need(form, "AccessKeyId")
        keys = await services.credentials.list_keys(user.user)
        if access_key not in {k.access_key for k in keys}:
            raise errors.NoSuchAccessKey(access_key)
        await services.credentials.delete_key(access_key)
        return None
    if action in ("AttachUserPolicy", "DetachUserPolicy"):
        arn = _need(form, "PolicyArn")
        if action == "AttachUserPolicy":
            managed.check_attachable(arn)
            await run_blocking(directory.attach_policy, name, arn)
        else:
            await run_blocking(directory.detach_policy, name, arn)
        await run_blocking(services.identity.forget_user_keys, user.user.id)
        return None
    if action == "ListAttachedUserPolicies":
        return xml.iam_list(
            "AttachedPolicies",
            [xml.iam_attached_policy(managed.policy_name(a), a) for a in user.policies],
        )
    if action == "ListUserPolicies":  # inline policies: Lading has none
        return xml.iam_list("PolicyNames", [])
    raise errors.NotImplementedOperation(f"The action {action}")
