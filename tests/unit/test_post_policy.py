"""POST Object policy documents: parsing, conditions, covered fields and signatures."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest

from lading import errors
from lading.http.s3.post_object import (
    FormSignature,
    check_length,
    check_policy,
    form_signature,
    object_headers,
    parse_policy,
    policy_signature,
    redirect_location,
    verify_signature,
)

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def encode(document: Any) -> str:
    return base64.b64encode(json.dumps(document).encode()).decode()


def policy(*conditions: Any, expiration: str = "2030-01-02T00:00:00Z") -> str:
    return encode({"expiration": expiration, "conditions": list(conditions)})


FIELDS = {"bucket": "b", "key": "foo.txt", "acl": "private", "content-type": "text/plain"}
COVERING = (
    {"bucket": "b"},
    ["starts-with", "$key", "foo"],
    {"acl": "private"},
    ["starts-with", "$Content-Type", "text/"],
)


def test_conditions_met() -> None:
    check_policy(parse_policy(policy(*COVERING)), FIELDS, NOW)


def test_expired() -> None:
    found = parse_policy(policy(*COVERING, expiration="2029-12-31T23:59:59.000Z"))
    with pytest.raises(errors.AccessDenied, match="Policy expired"):
        check_policy(found, FIELDS, NOW)


@pytest.mark.parametrize(
    "condition",
    [
        {"acl": "public-read"},
        ["eq", "$acl", "public-read"],
        ["starts-with", "$key", "bar"],
        ["eq", "$x-amz-meta-missing", "v"],
    ],
)
def test_condition_failed(condition: Any) -> None:
    found = parse_policy(policy(*COVERING, condition))
    with pytest.raises(errors.AccessDenied, match="Policy Condition failed"):
        check_policy(found, FIELDS, NOW)


def test_case_insensitive_names_and_operators() -> None:
    found = parse_policy(
        policy({"bUcKeT": "b"}, ["StArTs-WiTh", "$KeY", "foo"], {"AcL": "private"},
               ["eq", "$content-type", "text/plain"])
    )  # fmt: skip
    check_policy(found, FIELDS, NOW)


def test_empty_prefix_matches_anything() -> None:
    found = parse_policy(policy(*COVERING, ["starts-with", "$x-amz-meta-foo", ""]))
    check_policy(found, {**FIELDS, "x-amz-meta-foo": "anything"}, NOW)
    check_policy(found, FIELDS, NOW)  # an absent field is the empty string


def test_extra_field_refused() -> None:
    found = parse_policy(policy(*COVERING))
    with pytest.raises(errors.AccessDenied, match="Extra input fields: x-amz-meta-foo"):
        check_policy(found, {**FIELDS, "x-amz-meta-foo": "v"}, NOW)


def test_bucket_must_be_covered() -> None:
    found = parse_policy(policy(*COVERING[1:]))
    with pytest.raises(errors.AccessDenied, match="Extra input fields: bucket"):
        check_policy(found, FIELDS, NOW)


def test_exempt_fields() -> None:
    found = parse_policy(policy(*COVERING))
    exempt = {"policy": "p", "signature": "s", "awsaccesskeyid": "a", "x-ignore-me": "1"}
    check_policy(found, {**FIELDS, **exempt, "x-amz-signature": "s"}, NOW)


@pytest.mark.parametrize(
    "encoded",
    [
        "not base64!",
        base64.b64encode(b"{not json").decode(),
        encode(["a list"]),
        encode({"conditions": []}),  # no expiration
        encode({"EXPIRATION": "2030-01-02T00:00:00Z", "conditions": []}),
        encode({"expiration": "2030-01-02T00:00:00Z"}),  # no conditions
        encode({"expiration": "2030-01-02T00:00:00Z", "CONDITIONS": []}),
        encode({"expiration": "2030-01-02 00:00:00", "conditions": []}),
        policy({}),
        policy({"a": "b", "c": "d"}),
        policy(["content-length-range", 0]),
        policy(["content-length-range", -1, 0]),
        policy(["matches", "$key", "x"]),
        policy(["eq", "key", "x"]),
        policy(["eq", "$key"]),
    ],
)
def test_malformed(encoded: str) -> None:
    with pytest.raises(errors.InvalidPolicyDocument):
        parse_policy(encoded)


def test_content_length_range() -> None:
    found = parse_policy(policy(["content-length-range", 2, "5"]))
    check_length(found, 2)
    check_length(found, 5)
    with pytest.raises(errors.EntityTooSmall):
        check_length(found, 1)
    with pytest.raises(errors.EntityTooLarge):
        check_length(found, 6)
    check_length(parse_policy(policy()), 10**9)
    check_length(None, 10**9)


def test_v4_signature() -> None:
    encoded = policy(*COVERING)
    fields = {
        "policy": encoded,
        "x-amz-algorithm": "AWS4-HMAC-SHA256",
        "x-amz-credential": "AKID/20300101/us-east-1/s3/aws4_request",
        "x-amz-date": "20300101T000000Z",
        "x-amz-signature": "",
    }
    signed = form_signature(fields)
    assert signed is not None and signed.v4 and signed.access_key == "AKID"
    good = policy_signature(signed, encoded, "secret")
    fields["x-amz-signature"] = good.upper()
    resigned = form_signature(fields)
    assert resigned is not None
    verify_signature(resigned, encoded, "secret", "us-east-1")
    with pytest.raises(errors.SignatureDoesNotMatch):
        verify_signature(resigned, encoded, "other", "us-east-1")
    with pytest.raises(errors.AuthorizationQueryParametersError):
        verify_signature(resigned, encoded, "secret", "eu-west-1")


def test_v2_signature() -> None:
    encoded = policy(*COVERING)
    signed = FormSignature("AKID", "", v4=False)
    good = policy_signature(signed, encoded, "secret")
    fields = {"policy": encoded, "awsaccesskeyid": "AKID", "signature": good}
    found = form_signature(fields)
    assert found is not None and not found.v4
    verify_signature(found, encoded, "secret", "us-east-1")
    with pytest.raises(errors.SignatureDoesNotMatch):
        verify_signature(found, encoded + "=", "secret", "us-east-1")


def test_anonymous_and_incomplete_forms() -> None:
    assert form_signature({"key": "k"}) is None
    with pytest.raises(errors.InvalidArgument, match="'signature'"):
        form_signature({"key": "k", "policy": "p", "awsaccesskeyid": "a"})
    with pytest.raises(errors.InvalidArgument, match="'x-amz-signature'"):
        form_signature(
            {
                "policy": "p",
                "x-amz-algorithm": "AWS4-HMAC-SHA256",
                "x-amz-credential": "A/20300101/us-east-1/s3/aws4_request",
                "x-amz-date": "20300101T000000Z",
            }
        )


def test_object_headers_and_redirect() -> None:
    headers = object_headers(
        {**FIELDS, "x-amz-meta-a": "1", "cache-control": "no-cache", "x-ignore-z": "z"}
    )
    assert headers == {
        "content-type": "text/plain",
        "x-amz-meta-a": "1",
        "cache-control": "no-cache",
        "x-amz-acl": "private",
    }
    assert (
        redirect_location("http://x/done?a=1", "b", "k y", '"e"')
        == "http://x/done?a=1&bucket=b&key=k+y&etag=%22e%22"
    )
