"""ACL grantees given by e-mail address, through boto3 and `lading admin add-user --email`.

`<Grantee xsi:type="AmazonCustomerByEmail">` and `x-amz-grant-*: emailAddress="..."` name the
Lading user with that address; the ACL stores and shows that user as a canonical user. An
address no user has is UnresolvableGrantByEmailAddress, one that several users share is
AmbiguousGrantByEmailAddress (both 400).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lading.testing.postgres import scratch_database
from lading.testing.server import RunningServer, serving
from tests.conftest import make_client

POSTGRES_URL = os.environ.get("LADING_TEST_POSTGRES_URL")


def _user_with_email(server: RunningServer, email: str) -> dict[str, str]:
    name = f"mail-{uuid.uuid4().hex[:8]}"
    created: dict[str, str] = json.loads(server.admin("add-user", name, "--email", email))
    return created


def _code(err: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    response = err.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def _grantees(acl: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (g["Grantee"]["Type"], g["Grantee"].get("ID", g["Grantee"].get("URI", "")), g["Permission"])
        for g in acl["Grants"]
    ]


def test_a_bucket_acl_document_grants_to_an_email_address(
    server: RunningServer, s3: Any, bucket: str
) -> None:
    address = f"reader-{uuid.uuid4().hex[:6]}@example.org"
    reader = _user_with_email(server, address)
    owner = s3.get_bucket_acl(Bucket=bucket)["Owner"]
    s3.put_bucket_acl(
        Bucket=bucket,
        AccessControlPolicy={
            "Owner": owner,
            "Grants": [
                {
                    "Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]},
                    "Permission": "FULL_CONTROL",
                },
                # the address as the user typed it, in another case
                {
                    "Grantee": {"Type": "AmazonCustomerByEmail", "EmailAddress": address.upper()},
                    "Permission": "READ",
                },
            ],
        },
    )
    acl = s3.get_bucket_acl(Bucket=bucket)
    assert _grantees(acl) == [
        ("CanonicalUser", owner["ID"], "FULL_CONTROL"),
        ("CanonicalUser", reader["user"], "READ"),
    ]
    assert all("EmailAddress" not in g["Grantee"] for g in acl["Grants"])
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    as_reader = make_client(server.url, reader["access_key"], reader["secret_key"])
    assert [o["Key"] for o in as_reader.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]


def test_grant_headers_take_an_email_address(server: RunningServer, s3: Any, bucket: str) -> None:
    address = f"writer-{uuid.uuid4().hex[:6]}@example.org"
    writer = _user_with_email(server, address)
    s3.put_object(
        Bucket=bucket,
        Key="k",
        Body=b"data",
        GrantRead=f'emailAddress="{address}"',
        GrantReadACP=f'emailAddress="{address}", uri="http://acs.amazonaws.com/groups/global/AllUsers"',
    )
    assert _grantees(s3.get_object_acl(Bucket=bucket, Key="k")) == [
        ("Group", "http://acs.amazonaws.com/groups/global/AllUsers", "READ_ACP"),
        ("CanonicalUser", writer["user"], "READ"),
        ("CanonicalUser", writer["user"], "READ_ACP"),
    ]
    as_writer = make_client(server.url, writer["access_key"], writer["secret_key"])
    assert as_writer.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"


def test_unknown_and_shared_addresses_are_refused(
    server: RunningServer, s3: Any, bucket: str
) -> None:
    with pytest.raises(ClientError) as err:
        s3.put_bucket_acl(Bucket=bucket, GrantRead='emailAddress="nobody@example.invalid"')
    assert _code(err) == (400, "UnresolvableGrantByEmailAddress")
    with pytest.raises(ClientError) as err:
        s3.put_object(
            Bucket=bucket, Key="k", Body=b"x", GrantRead='emailAddress="nobody@example.invalid"'
        )
    assert _code(err) == (400, "UnresolvableGrantByEmailAddress")
    shared = f"team-{uuid.uuid4().hex[:6]}@example.org"
    _user_with_email(server, shared)
    _user_with_email(server, shared)
    with pytest.raises(ClientError) as err:
        s3.put_bucket_acl(Bucket=bucket, GrantRead=f'emailAddress="{shared}"')
    assert _code(err) == (400, "AmbiguousGrantByEmailAddress")
    with pytest.raises(ClientError) as err:  # an empty address is no grantee at all
        s3.put_bucket_acl(Bucket=bucket, GrantRead='emailAddress=""')
    assert _code(err) == (400, "InvalidArgument")
    # nothing was stored: the owner's implicit FULL_CONTROL only
    assert [g["Permission"] for g in s3.get_bucket_acl(Bucket=bucket)["Grants"]] == ["FULL_CONTROL"]
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="k")


def test_create_bucket_grants_by_email(server: RunningServer, s3: Any) -> None:
    address = f"admin-{uuid.uuid4().hex[:6]}@example.org"
    member = _user_with_email(server, address)
    name = f"t-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, GrantFullControl=f'emailAddress="{address}"')
    try:
        assert ("CanonicalUser", member["user"], "FULL_CONTROL") in _grantees(
            s3.get_bucket_acl(Bucket=name)
        )
    finally:
        s3.delete_bucket(Bucket=name)


def test_add_user_help_shows_the_email_option() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "lading", "admin", "add-user", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--email" in done.stdout and "Example" in done.stdout


@pytest.mark.postgres
def test_email_grantees_on_postgresql(tmp_path: Path) -> None:
    if not POSTGRES_URL:
        pytest.skip("LADING_TEST_POSTGRES_URL is not set")
    with (
        scratch_database(POSTGRES_URL) as url,
        serving(tmp_path / "data", env={"LADING_METADATA__URL": url}) as server,
    ):
        reader = _user_with_email(server, "Reader@Example.org")
        s3 = make_client(server.url, server.access_key, server.secret_key)
        s3.create_bucket(Bucket="pg-email", GrantRead='emailAddress="reader@example.org"')
        grants = _grantees(s3.get_bucket_acl(Bucket="pg-email"))
        assert ("CanonicalUser", reader["user"], "READ") in grants
        with pytest.raises(ClientError) as err:
            s3.put_bucket_acl(Bucket="pg-email", GrantRead='emailAddress="nobody@example.org"')
        assert _code(err) == (400, "UnresolvableGrantByEmailAddress")
