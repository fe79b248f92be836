"""ACL parsing: grantees given by e-mail address come out to be resolved, never stored."""

from __future__ import annotations

import pytest

from lading import errors
from lading.iam import acl as acls


def test_grant_headers_keep_email_grantees_for_resolution() -> None:
    found = acls.from_headers(
        {
            "x-amz-grant-read": 'emailAddress="a@example.org", id="bob"',
            "x-amz-grant-write-acp": "emailAddress=a@example.org",
        }
    )
    assert found is not None
    assert acls.emails_named(found) == {"a@example.org"}
    assert acls.users_named(found) == {"bob"}
    resolved = acls.resolve_emails(found, {"a@example.org": "alice"})
    assert resolved == {
        "grants": [
            {"type": "CanonicalUser", "id": "alice", "permission": "READ"},
            {"type": "CanonicalUser", "id": "bob", "permission": "READ"},
            {"type": "CanonicalUser", "id": "alice", "permission": "WRITE_ACP"},
        ],
        "exact": True,
    }
    assert acls.emails_named(resolved) == set()


def test_a_grant_repeated_through_an_email_is_stored_once() -> None:
    found = acls.from_headers({"x-amz-grant-read": 'id="alice", emailAddress="a@example.org"'})
    assert found is not None
    resolved = acls.resolve_emails(found, {"a@example.org": "alice"})
    assert resolved["grants"] == [{"type": "CanonicalUser", "id": "alice", "permission": "READ"}]


def test_an_access_control_policy_takes_email_grantees() -> None:
    tree = {
        "AccessControlList": {
            "Grant": [
                {"Grantee": {"EmailAddress": " a@example.org "}, "Permission": "FULL_CONTROL"},
                {"Grantee": {"URI": acls.ALL_USERS}, "Permission": "READ"},
            ]
        }
    }
    found = acls.from_tree(tree)
    assert acls.emails_named(found) == {"a@example.org"}


@pytest.mark.parametrize(
    ("header", "error"),
    [
        ('emailAddress=""', errors.InvalidArgument),
        ("email=a@example.org", errors.InvalidArgument),
    ],
)
def test_bad_email_grants_are_refused(header: str, error: type[errors.LadingError]) -> None:
    with pytest.raises(error):
        acls.from_headers({"x-amz-grant-read": header})


def test_a_grantee_with_nothing_to_name_it_is_malformed() -> None:
    with pytest.raises(errors.MalformedXML):
        acls.from_tree({"AccessControlList": {"Grant": [{"Grantee": {}, "Permission": "READ"}]}})
