"""S3 access control lists: canned ACLs, grant headers and AccessControlPolicy documents.

An ACL is stored as {"grants": [{"type", "id" or "uri", "permission"}, ...]}. A canned ACL
leaves the owner's FULL_CONTROL implicit (it is shown, not stored); grants given one by one
(x-amz-grant-* headers or an AccessControlPolicy document) are stored with "exact": true and
shown exactly as given, as S3 does. The owner may always read and change the ACL whatever it
lists. A grantee user is named by its Lading user name, which is also its canonical id on the
wire. A grantee given by e-mail address comes out of parsing as an AmazonCustomerByEmail grant,
which the caller resolves to its user (`resolve_emails`) before storing: only canonical users
and groups are stored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lading import errors

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
PUBLIC_GROUPS = (ALL_USERS, AUTHENTICATED_USERS)
GROUPS = (ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY)
PERMISSIONS = ("READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL")
GRANT_HEADERS = {
    "x-amz-grant-read": "READ",
    "x-amz-grant-write": "WRITE",
    "x-amz-grant-read-acp": "READ_ACP",
    "x-amz-grant-write-acp": "WRITE_ACP",
    "x-amz-grant-full-control": "FULL_CONTROL",
}

BY_EMAIL = "AmazonCustomerByEmail"

Grant = dict[str, str]
Acl = dict[str, Any]


def _group(uri: str, permission: str) -> Grant:
    return {"type": "Group", "uri": uri, "permission": permission}


def _user(name: str, permission: str) -> Grant:
    return {"type": "CanonicalUser", "id": name, "permission": permission}


def _email(address: str, permission: str) -> Grant:
    return {"type": BY_EMAIL, "email": address, "permission": permission}


def emails_named(acl: Acl) -> set[str]:
    """The e-mail addresses an ACL grants to (to resolve to users before it is stored)."""
    return {g["email"] for g in acl["grants"] if g["type"] == BY_EMAIL}


def resolve_emails(acl: Acl, users: Mapping[str, str]) -> Acl:
    """The ACL with each e-mail grantee replaced by its user (`users`: address -> user name);
    a grant that repeats one already there is dropped."""
    grants: list[Grant] = []
    for grant in acl["grants"]:
        if grant["type"] == BY_EMAIL:
            grant = _user(users[grant["email"]], grant["permission"])
        if grant not in grants:
            grants.append(grant)
    return {**acl, "grants": grants}


def canned(name: str, *, bucket_owner: str = "") -> Acl:
    """The grants of a canned ACL (x-amz-acl); InvalidArgument for an unknown name."""
    grants: list[Grant]
    match name:
        case "private" | "aws-exec-read":
            grants = []
        case "public-read":
            grants = [_group(ALL_USERS, "READ")]
        case "public-read-write":
            grants = [_group(ALL_USERS, "READ"), _group(ALL_USERS, "WRITE")]
        case "authenticated-read":
            grants = [_group(AUTHENTICATED_USERS, "READ")]
        case "bucket-owner-read":
            grants = [_user(bucket_owner, "READ")] if bucket_owner else []
        case "bucket-owner-full-control":
            grants = [_user(bucket_owner, "FULL_CONTROL")] if bucket_owner else []
        case "log-delivery-write":
            grants = [_group(LOG_DELIVERY, "WRITE"), _group(LOG_DELIVERY, "READ_ACP")]
        case _:
            raise errors.InvalidArgument(f"The canned ACL {name!r} is not valid.")
    return {"grants": grants}


_GRANTEE = re.compile(r'\s*(id|uri|emailAddress)\s*=\s*"?([^",]*)"?\s*', re.IGNORECASE)


def from_headers(headers: Mapping[str, str], *, bucket_owner: str = "") -> Acl | None:
    """The ACL a write's x-amz-acl or x-amz-grant-* headers ask for; None when neither."""
    grants_given = [name for name in GRANT_HEADERS if name in headers]
    if "x-amz-acl" in headers:
        if grants_given:
            raise errors.InvalidRequest(
                "Specifying both Canned ACLs and Header Grants is not allowed"
            )
        return canned(headers["x-amz-acl"].strip(), bucket_owner=bucket_owner)
    if not grants_given:
        return None
    grants: list[Grant] = []
    for header in grants_given:
        permission = GRANT_HEADERS[header]
        for item in headers[header].split(","):
            found = _GRANTEE.fullmatch(item)
            if found is None:
                raise errors.InvalidArgument(f"The grant {item.strip()!r} is not valid.")
            kind, value = found.group(1).lower(), found.group(2).strip()
            if kind == "id":
                grants.append(_user(value, permission))
            elif kind == "uri":
                if value not in GROUPS:
                    raise errors.InvalidArgument(f"Invalid group uri {value!r}")
                grants.append(_group(value, permission))
            elif value:
                grants.append(_email(value, permission))
            else:
                raise errors.InvalidArgument(f"The grant {item.strip()!r} is not valid.")
    return {"grants": grants, "exact": True}


def from_tree(tree: Mapping[str, Any]) -> Acl:
    """AccessControlPolicy (parsed) -> ACL; the owner's own grants are kept as written."""
    if "AccessControlList" not in tree:
        raise errors.MalformedXML("AccessControlPolicy needs an AccessControlList.")
    acl_list = tree["AccessControlList"] or {}  # empty: every grant revoked
    if not isinstance(acl_list, dict):
        raise errors.MalformedXML("AccessControlPolicy needs an AccessControlList.")
    grants: list[Grant] = []
    for raw in acl_list.get("Grant", []):
        if not isinstance(raw, dict) or not isinstance(raw.get("Grantee"), dict):
            raise errors.MalformedXML()
        permission = str(raw.get("Permission") or "")
        if permission not in PERMISSIONS:
            raise errors.MalformedXML(f"The permission {permission!r} is not valid.")
        grantee = raw["Grantee"]
        if grantee.get("ID"):
            grants.append(_user(str(grantee["ID"]), permission))
        elif grantee.get("URI"):
            if grantee["URI"] not in GROUPS:
                raise errors.InvalidArgument(f"Invalid group uri {grantee['URI']!r}")
            grants.append(_group(str(grantee["URI"]), permission))
        elif grantee.get("EmailAddress"):
            grants.append(_email(str(grantee["EmailAddress"]).strip(), permission))
        else:
            raise errors.MalformedXML("A grantee needs an ID, a URI or an EmailAddress.")
    return {"grants": grants, "exact": True}


def users_named(acl: Acl) -> set[str]:
    """The user names an ACL grants to (each must exist)."""
    return {g["id"] for g in acl["grants"] if g["type"] == "CanonicalUser"}


def is_public(acl: Acl | None) -> bool:
    return acl is not None and any(g.get("uri") in PUBLIC_GROUPS for g in acl["grants"])


def allows(
    acl: Acl | None,
    owner: str,
    user: str | None,
    permission: str,
    *,
    ignore_public: bool = False,
) -> bool:
    """Whether the ACL gives `user` (None: anonymous) `permission` on its resource."""
    if user is not None and user == owner:
        return True
    if acl is None:
        return False
    for grant in acl["grants"]:
        if grant["permission"] not in (permission, "FULL_CONTROL"):
            continue
        if grant["type"] == "CanonicalUser":
            if user is not None and grant["id"] == user:
                return True
        elif not ignore_public and (
            grant["uri"] == ALL_USERS or (grant["uri"] == AUTHENTICATED_USERS and user)
        ):
            return True
    return False


def effective(acl: Acl | None, owner: str) -> list[Grant]:
    """The grants to show: group grants first, then users' (the owner's implicit FULL_CONTROL
    first among them unless the ACL was given grant by grant)."""
    stored: list[Grant] = (acl or {"grants": []})["grants"]
    users = [g for g in stored if g["type"] != "Group"]
    if acl is None or not acl.get("exact"):
        mine = _user(owner, "FULL_CONTROL")
        users = [mine, *(g for g in users if g != mine)]
    return [g for g in stored if g["type"] == "Group"] + users
