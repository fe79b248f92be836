"""Tests of lading.iam.policy_language: parsing, validation, evaluation and public-ness."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lading.errors import InvalidRequest, MalformedPolicy
from lading.iam.policy_language import (
    Decision,
    Effect,
    Policy,
    RequestContext,
    parse_identity_policy,
    parse_policy,
    user_arn,
)

BUCKET = "bkt"
ALICE = user_arn("alice")
BOB = user_arn("bob")
OBJECTS = "arn:aws:s3:::bkt/*"


def statement(**fields: Any) -> dict[str, Any]:
    """A statement allowing everyone s3:GetObject on every object, with fields overridden."""
    base: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": OBJECTS,
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def policy(*statements: dict[str, Any], version: str | None = "2012-10-17") -> Policy:
    document: dict[str, Any] = {"Statement": list(statements) or [statement()]}
    if version is not None:
        document["Version"] = version
    return parse_policy(json.dumps(document), BUCKET)


def ctx(
    principal: str | None = ALICE,
    action: str = "s3:GetObject",
    resource: str = "arn:aws:s3:::bkt/key",
    conditions: dict[str, str | list[str]] | None = None,
) -> RequestContext:
    return RequestContext(principal, action, resource, conditions or {})


def decide(*statements: dict[str, Any], version: str | None = "2012-10-17", **kw: Any) -> Decision:
    return policy(*statements, version=version).evaluate(ctx(**kw))


def when(condition: dict[str, Any], conditions: dict[str, Any] | None = None) -> Decision:
    """The decision of an Allow statement with condition, for a request with conditions."""
    return decide(statement(Condition=condition), conditions=conditions or {})


def malformed(document: Any, *, raw: str | None = None) -> str:
    text = raw if raw is not None else json.dumps(document)
    with pytest.raises(MalformedPolicy) as caught:
        parse_policy(text, BUCKET)
    return caught.value.message


# --- parsing ------------------------------------------------------------------------------


def test_parse_keeps_the_text_and_fields() -> None:
    body = json.dumps(statement(Sid="Public"))
    text = f'{{ "Version": "2012-10-17", "Id": "p1",\n  "Statement": [{body}] }}'
    parsed = parse_policy(text, BUCKET)
    assert parsed.text == text
    assert parsed.version == "2012-10-17"
    assert parsed.policy_id == "p1"
    assert [(s.sid, s.effect) for s in parsed.statements] == [("Public", Effect.ALLOW)]


def test_parse_accepts_bytes_and_a_single_statement_object() -> None:
    text = json.dumps({"Statement": statement()})
    parsed = parse_policy(text.encode(), BUCKET)
    assert parsed.text == text
    assert parsed.version is None
    assert len(parsed.statements) == 1


@pytest.mark.parametrize("version", ["2012-10-17", "2008-10-17", None])
def test_parse_accepts_both_versions_and_none(version: str | None) -> None:
    assert policy(version=version).version == version


def test_parse_allows_leading_whitespace() -> None:
    assert parse_policy("\n  " + json.dumps({"Statement": statement()}), BUCKET)


def test_malformed_policy_is_an_invalid_request() -> None:
    with pytest.raises(InvalidRequest):
        parse_policy("nope", BUCKET)


def test_size_limit_is_20_kb() -> None:
    text = json.dumps({"Statement": statement()})
    exactly = text[:-1] + " " * (20 * 1024 - len(text)) + "}"
    assert len(exactly.encode()) == 20 * 1024
    assert parse_policy(exactly, BUCKET)
    assert malformed(None, raw=exactly[:-1] + " }") == "Policies must be less than 20 KB"


def test_size_limit_counts_bytes_not_characters() -> None:
    text = json.dumps({"Statement": statement(Sid="é" * 10_300)}, ensure_ascii=False)
    assert len(text) < 20 * 1024 < len(text.encode())
    assert malformed(None, raw=text) == "Policies must be less than 20 KB"


NOT_JSON = "Policies must be valid JSON and the first byte must be '{'"


@pytest.mark.parametrize(
    "raw",
    ["", "nope", "[]", '"{}"', "{", '{"Statement": [}', '{"Statement": NaN}', "\ufeff{}"],
)
def test_not_json_or_not_an_object(raw: str) -> None:
    assert malformed(None, raw=raw) == NOT_JSON


def test_invalid_utf8_bytes() -> None:
    with pytest.raises(MalformedPolicy, match="valid JSON"):
        parse_policy(b'{"Statement": "\xff"}', BUCKET)


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({}, "Missing required field Statement"),
        ({"Statement": []}, "Missing required field Statement"),
        ({"Statement": "x"}, "Statement must be a JSON object"),
        ({"Statement": [statement(), 1]}, "Statement must be a JSON object"),
        ({"Statement": statement(), "Extra": 1}, "Unknown field Extra"),
        ({"Version": "2020-01-01", "Statement": statement()}, "Invalid policy version"),
        ({"Id": 7, "Statement": statement()}, "Invalid Id"),
        ({"Statement": statement(effect="Allow")}, "Unknown field effect"),
        ({"Statement": statement(Effect=None)}, "Missing required field Effect"),
        ({"Statement": statement(Effect="Allowe")}, "Invalid effect: Allowe"),
        ({"Statement": statement(Effect="allow")}, "Invalid effect: allow"),
        ({"Statement": statement(Sid=1)}, "Invalid Sid"),
    ],
)
def test_malformed_documents(document: Any, reason: str) -> None:
    assert reason in malformed(document)


@pytest.mark.parametrize(
    "principal",
    [
        "alice",
        ALICE,
        [],
        {},
        {"AWS": []},
        {"AWS": 5},
        {"AWS": [ALICE, 5]},
        {"AWS": "has space"},
        {"AWS": "arn:aws:s3:::bkt"},
        {"AWS": "not:an-arn"},
        {"Service": 5},
        {"CanonicalUser": ""},
    ],
)
def test_invalid_principals(principal: Any) -> None:
    assert malformed({"Statement": statement(Principal=principal)}) == (
        "Invalid principal in policy"
    )


def test_service_principals_match_only_their_service() -> None:
    from lading.iam.policy_language import SERVICE_PREFIX

    found = policy(
        statement(Principal={"Service": "logging.s3.amazonaws.com"}, Action="s3:PutObject"),
        statement(Principal="*", Action="s3:PutObject", Effect="Allow"),
    )
    logs = SERVICE_PREFIX + "logging.s3.amazonaws.com"
    other = SERVICE_PREFIX + "logging.s3.amazonaws.comkaboom"
    assert found.evaluate(ctx(logs, "s3:PutObject")) is Decision.ALLOW
    assert found.evaluate(ctx(other, "s3:PutObject")) is Decision.NONE  # "*" is users only
    only_service = policy(statement(Principal={"Service": "logging.s3.amazonaws.com"}))
    assert only_service.evaluate(ctx(ALICE)) is Decision.NONE


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"Principal": None}, "Missing required field Principal"),
        ({"NotPrincipal": "*"}, "cannot contain both Principal and NotPrincipal"),
        ({"Action": None}, "Missing required field Action"),
        ({"NotAction": "s3:*"}, "cannot contain both Action and NotAction"),
        ({"Resource": None}, "Missing required field Resource"),
        ({"NotResource": "*"}, "cannot contain both Resource and NotResource"),
    ],
)
def test_exactly_one_of_each_pair(fields: dict[str, Any], reason: str) -> None:
    assert reason in malformed({"Statement": statement(**fields)})


@pytest.mark.parametrize(
    "action", ["GetObject", "iam:CreateUser", "s3:Get Object", "s3:", "", [], 5, ["s3:*", 1]]
)
def test_invalid_actions(action: Any) -> None:
    assert malformed({"Statement": statement(Action=action)}) == "Policy has invalid action"


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:s3:::other",
        "arn:aws:s3:::other/*",
        "arn:aws:s3:::bkt2/*",
        "arn:aws:s3:::other*",
        "arn:aws:s3:::",
        "bkt/*",
        "arn:aws:iam::lading:user/alice",
        "arn:aws-cn:s3:::bkt",
        [],
        7,
    ],
)
def test_invalid_resources(resource: Any) -> None:
    assert malformed({"Statement": statement(Resource=resource)}) == ("Policy has invalid resource")


@pytest.mark.parametrize(
    "resource", ["*", "arn:aws:s3:::bkt", "arn:aws:s3:::b*", "arn:aws:s3:::b?t/x", "arn:aws:s3:::*"]
)
def test_valid_resources(resource: str) -> None:
    assert policy(statement(Resource=resource))


@pytest.mark.parametrize(
    ("condition", "reason"),
    [
        ("x", "Condition must be a JSON object"),
        ({"StringEquals": "x"}, "must map condition keys to values"),
        ({"StringEquals": {}}, "must map condition keys to values"),
        ({"StringEqualz": {"aws:username": "a"}}, "Unknown condition operator: StringEqualz"),
        ({"ForSomeValues:StringEquals": {"aws:username": "a"}}, "Unknown condition operator"),
        ({"NullIfExists": {"aws:username": "true"}}, "Unknown condition operator"),
        ({"ForAnyValue:Null": {"aws:username": "true"}}, "Unknown condition operator"),
        ({"IfExists": {"aws:username": "a"}}, "Unknown condition operator"),
        ({"StringEquals": {"SourceIp": "a"}}, "invalid condition key"),
        ({"StringEquals": {"aws:username": None}}, "Invalid condition value"),
        ({"StringEquals": {"aws:username": {"a": 1}}}, "Invalid condition value"),
        ({"StringEquals": {"aws:username": []}}, "has no value"),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}}, "Invalid IP address or CIDR"),
        ({"IpAddress": {"aws:SourceIp": "example.com"}}, "Invalid IP address or CIDR"),
        ({"DateLessThan": {"aws:CurrentTime": "tomorrow"}}, "Invalid value 'tomorrow'"),
        ({"NumericLessThan": {"s3:max-keys": "ten"}}, "Invalid value 'ten'"),
        ({"NumericLessThan": {"s3:max-keys": "NaN"}}, "Invalid value 'NaN'"),
        ({"Bool": {"aws:SecureTransport": "yes"}}, "Invalid value 'yes'"),
        ({"Null": {"s3:prefix": "maybe"}}, "Invalid value 'maybe'"),
    ],
)
def test_invalid_conditions(condition: Any, reason: str) -> None:
    assert reason in malformed({"Statement": statement(Condition=condition)})


def test_condition_operators_are_case_insensitive_and_empty_condition_is_fine() -> None:
    assert policy(statement(Condition={"stringequals": {"aws:username": "a"}}))
    assert policy(statement(Condition={}))


# --- actions, resources, principals ---------------------------------------------------------


def test_effects_and_no_applicable_statement() -> None:
    assert decide(statement()) is Decision.ALLOW
    assert decide(statement(Effect="Deny")) is Decision.DENY
    assert decide(statement(), action="s3:PutObject") is Decision.NONE


@pytest.mark.parametrize("order", [1, -1])
def test_deny_wins_over_allow_in_any_order(order: int) -> None:
    statements = [statement(), statement(Effect="Deny", Principal={"AWS": ALICE})][::order]
    assert decide(*statements) is Decision.DENY
    assert decide(*statements, principal=BOB) is Decision.ALLOW


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("s3:GetObject", "s3:GetObject", True),
        ("S3:getobject", "s3:GetObject", True),
        ("s3:GetObject", "S3:GETOBJECT", True),
        ("s3:Get*", "s3:GetObjectTagging", True),
        ("s3:Get*", "s3:PutObject", False),
        ("s3:*", "s3:DeleteBucket", True),
        ("*", "s3:ListBucket", True),
        ("s3:?etObject", "s3:GetObject", True),
        ("s3:?etObject", "s3:GGetObject", False),
        ("s3:GetObject", "s3:GetObjectAcl", False),
    ],
)
def test_action_matching(pattern: str, action: str, expected: bool) -> None:
    assert (decide(statement(Action=pattern), action=action) is Decision.ALLOW) is expected


def test_action_list_and_not_action() -> None:
    listed = statement(Action=["s3:PutObject", "s3:GetObject"])
    assert decide(listed) is Decision.ALLOW
    assert decide(statement(Action=None, NotAction="s3:Delete*")) is Decision.ALLOW
    not_delete = statement(Action=None, NotAction=["s3:Delete*"])
    assert decide(not_delete, action="s3:DeleteObject") is Decision.NONE


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [
        (OBJECTS, "arn:aws:s3:::bkt/a/b/c", True),
        (OBJECTS, "arn:aws:s3:::bkt", False),
        ("arn:aws:s3:::bkt", "arn:aws:s3:::bkt", True),
        ("arn:aws:s3:::bkt/Key", "arn:aws:s3:::bkt/key", False),
        ("arn:aws:s3:::bkt/k?y", "arn:aws:s3:::bkt/key", True),
        ("arn:aws:s3:::bkt/k?y", "arn:aws:s3:::bkt/kiiy", False),
        ("arn:aws:s3:::bkt/a*z", "arn:aws:s3:::bkt/a/\n/z", True),
        ("arn:aws:s3:::bkt/a.c", "arn:aws:s3:::bkt/abc", False),
        ("arn:aws:s3:::bkt/[a]", "arn:aws:s3:::bkt/[a]", True),
        ("arn:aws:s3:::b*", "arn:aws:s3:::bkt/x", True),
        ("*", "arn:aws:s3:::bkt", True),
    ],
)
def test_resource_matching(pattern: str, resource: str, expected: bool) -> None:
    result = decide(statement(Resource=pattern), resource=resource)
    assert (result is Decision.ALLOW) is expected


def test_not_resource() -> None:
    private = statement(Resource=None, NotResource="arn:aws:s3:::bkt/private/*")
    assert decide(private, resource="arn:aws:s3:::bkt/public/x") is Decision.ALLOW
    assert decide(private, resource="arn:aws:s3:::bkt/private/x") is Decision.NONE


@pytest.mark.parametrize(
    ("principal", "who", "expected"),
    [
        ("*", ALICE, True),
        ("*", None, True),
        ({"AWS": "*"}, None, True),
        ({"AWS": ["*"]}, BOB, True),
        ({"AWS": ALICE}, ALICE, True),
        ({"AWS": ALICE}, BOB, False),
        ({"AWS": ALICE}, None, False),
        ({"AWS": [BOB, ALICE]}, ALICE, True),
        ({"AWS": "arn:aws:iam::lading:user/Alice"}, ALICE, False),
        ({"AWS": "arn:aws:iam::lading:user/a*"}, ALICE, True),
        ({"AWS": "arn:aws:iam::*:user/*"}, BOB, True),
        ({"AWS": "arn:aws:iam::*:user/*"}, None, False),
        ({"AWS": "alice"}, ALICE, True),
        ({"AWS": "alice"}, BOB, False),
        ({"AWS": "alice"}, None, False),
        ({"AWS": "arn:aws:iam::lading:root"}, ALICE, False),
        ({"CanonicalUser": "alice"}, ALICE, True),
        ({"CanonicalUser": ["bob"]}, ALICE, False),
        ({"CanonicalUser": "alice", "AWS": "bob"}, BOB, True),
    ],
)
def test_principal_matching(principal: Any, who: str | None, expected: bool) -> None:
    result = decide(statement(Principal=principal), principal=who)
    assert (result is Decision.ALLOW) is expected


def test_not_principal_deny_everyone_but_alice() -> None:
    deny = statement(Effect="Deny", Principal=None, NotPrincipal={"AWS": ALICE})
    assert decide(deny, statement()) is Decision.ALLOW
    assert decide(deny, statement(), principal=BOB) is Decision.DENY
    assert decide(deny, statement(), principal=None) is Decision.DENY


def test_user_arn() -> None:
    assert user_arn("alice") == "arn:aws:iam::lading:user/alice"


# --- conditions -----------------------------------------------------------------------------


def test_string_equals_or_over_values_and_over_keys() -> None:
    cond = {"StringEquals": {"s3:prefix": ["a/", "b/"], "s3:delimiter": "/"}}
    assert when(cond, {"s3:prefix": "b/", "s3:delimiter": "/"}) is Decision.ALLOW
    assert when(cond, {"s3:prefix": "c/", "s3:delimiter": "/"}) is Decision.NONE
    assert when(cond, {"s3:prefix": "a/"}) is Decision.NONE  # missing key: AND fails
    assert when({"StringEquals": {"s3:prefix": "A/"}}, {"s3:prefix": "a/"}) is Decision.NONE


def test_every_operator_block_must_hold() -> None:
    cond = {"StringEquals": {"s3:prefix": "a/"}, "Bool": {"aws:SecureTransport": "true"}}
    ok = {"s3:prefix": "a/", "aws:SecureTransport": "true"}
    assert when(cond, ok) is Decision.ALLOW
    assert when(cond, ok | {"aws:SecureTransport": "false"}) is Decision.NONE


def test_condition_keys_are_case_insensitive_both_ways() -> None:
    assert when({"StringEquals": {"AWS:SOURCEIP": "x"}}, {"aws:sourceip": "x"}) is Decision.ALLOW
    assert when({"StringEquals": {"aws:sourceip": "x"}}, {"Aws:SourceIp": "x"}) is Decision.ALLOW


@pytest.mark.parametrize(
    ("operator", "value", "request_value", "expected"),
    [
        ("StringNotEquals", "a", "b", True),
        ("StringNotEquals", ["a", "b"], "b", False),
        ("StringNotEquals", "a", None, True),  # a missing key satisfies a negated operator
        ("StringEqualsIgnoreCase", "AbC", "aBc", True),
        ("StringEqualsIgnoreCase", "abc", "abd", False),
        ("StringNotEqualsIgnoreCase", "AbC", "abc", False),
        ("StringNotEqualsIgnoreCase", "AbC", "abd", True),
        ("StringLike", "home/*", "home/a/b", True),
        ("StringLike", "home/?", "home/ab", False),
        ("StringLike", "Home/*", "home/a", False),
        ("StringLike", "*", None, False),
        ("StringNotLike", "tmp/*", "home/a", True),
        ("StringNotLike", "tmp/*", "tmp/a", False),
        ("StringNotLike", "tmp/*", None, True),
        ("NumericEquals", "10", "10.0", True),
        ("NumericEquals", 10, "11", False),
        ("NumericNotEquals", "10", "11", True),
        ("NumericNotEquals", "10", "10", False),
        ("NumericLessThan", 100, "99", True),
        ("NumericLessThan", "100", "100", False),
        ("NumericLessThanEquals", "100", "100", True),
        ("NumericGreaterThan", "1.5", "2", True),
        ("NumericGreaterThanEquals", "2", "1", False),
        ("NumericLessThan", "100", "lots", False),
        ("NumericLessThan", "100", None, False),
        ("NumericNotEquals", "100", "lots", False),
        ("DateLessThan", "2030-01-01T00:00:00Z", "2024-05-01T12:00:00Z", True),
        ("DateLessThan", "2020-01-01T00:00:00Z", "2024-05-01T12:00:00Z", False),
        ("DateGreaterThan", "2020-01-01", "2024-05-01T12:00:00Z", True),
        ("DateEquals", "2024-05-01T12:00:00Z", "2024-05-01T14:00:00+02:00", True),
        ("DateNotEquals", "2024-05-01T12:00:00Z", "2024-05-01T12:00:01Z", True),
        ("DateLessThanEquals", 1714564800, "2024-05-01T12:00:00Z", True),
        ("DateGreaterThanEquals", "1714564801", "2024-05-01T12:00:00Z", False),
        ("DateLessThan", "2030-01-01T00:00:00Z", "not a date", False),
        ("Bool", True, "true", True),
        ("Bool", "true", "false", False),
        ("Bool", "False", "false", True),
        ("Bool", "true", None, False),
        ("ArnLike", "arn:aws:iam::*:user/*", ALICE, True),
        ("ArnLike", "arn:aws:iam::*:user/al?ce", ALICE, True),
        ("ArnLike", "arn:aws:iam::*:user/x", "arn:aws:iam::a:b:user/x", False),
        ("ArnLike", "arn:aws:s3:::bkt/*", "arn:aws:s3:::bkt/a:b/c", True),
        ("ArnLike", "*", ALICE, True),
        ("ArnEquals", "arn:aws:iam::lading:user/*", ALICE, True),
        ("ArnEquals", "arn:aws:iam::lading:user/Alice", ALICE, False),
        ("ArnNotLike", "arn:aws:iam::*:user/bob", ALICE, True),
        ("ArnNotEquals", ALICE, ALICE, False),
    ],
)
def test_condition_operators(operator: str, value: Any, request_value: Any, expected: bool) -> None:
    key = "test:key"
    conditions = {} if request_value is None else {key: request_value}
    result = when({operator: {key: value}}, conditions)
    assert (result is Decision.ALLOW) is expected


@pytest.mark.parametrize(
    ("operator", "cidrs", "address", "expected"),
    [
        ("IpAddress", "192.0.2.0/24", "192.0.2.77", True),
        ("IpAddress", "192.0.2.0/24", "198.51.100.1", False),
        ("IpAddress", ["10.0.0.0/8", "192.0.2.1"], "192.0.2.1", True),
        ("IpAddress", "2001:db8::/32", "2001:db8::1", True),
        ("IpAddress", "2001:db8::/32", "192.0.2.1", False),
        ("IpAddress", "0.0.0.0/0", "::1", False),
        ("IpAddress", "192.0.2.0/24", "garbage", False),
        ("NotIpAddress", "192.0.2.0/24", "198.51.100.1", True),
        ("NotIpAddress", "192.0.2.0/24", "192.0.2.9", False),
        ("NotIpAddress", "192.0.2.0/24", None, True),
    ],
)
def test_ip_conditions(operator: str, cidrs: Any, address: str | None, expected: bool) -> None:
    conditions = {} if address is None else {"aws:SourceIp": address}
    result = when({operator: {"aws:SourceIp": cidrs}}, conditions)
    assert (result is Decision.ALLOW) is expected


def test_null_operator() -> None:
    assert when({"Null": {"s3:prefix": "true"}}) is Decision.ALLOW
    assert when({"Null": {"s3:prefix": "true"}}, {"s3:prefix": "a"}) is Decision.NONE
    assert when({"Null": {"s3:prefix": False}}, {"s3:prefix": "a"}) is Decision.ALLOW
    assert when({"Null": {"s3:prefix": "false"}}) is Decision.NONE


def test_if_exists() -> None:
    cond = {"StringEqualsIfExists": {"s3:x-amz-acl": "private"}}
    assert when(cond) is Decision.ALLOW
    assert when(cond, {"s3:x-amz-acl": "private"}) is Decision.ALLOW
    assert when(cond, {"s3:x-amz-acl": "public-read"}) is Decision.NONE
    assert when({"NumericLessThanIfExists": {"s3:max-keys": "10"}}) is Decision.ALLOW


def test_for_any_value() -> None:
    cond = {"ForAnyValue:StringEquals": {"aws:TagKeys": ["project", "owner"]}}
    assert when(cond, {"aws:TagKeys": ["colour", "owner"]}) is Decision.ALLOW
    assert when(cond, {"aws:TagKeys": ["colour"]}) is Decision.NONE
    assert when(cond, {"aws:TagKeys": []}) is Decision.NONE
    assert when(cond) is Decision.NONE


def test_for_all_values() -> None:
    cond = {"ForAllValues:StringLike": {"aws:TagKeys": ["project*", "owner"]}}
    assert when(cond, {"aws:TagKeys": ["projectX", "owner"]}) is Decision.ALLOW
    assert when(cond, {"aws:TagKeys": ["projectX", "colour"]}) is Decision.NONE
    assert when(cond) is Decision.ALLOW  # vacuously true, as in AWS


def test_set_operators_with_negation() -> None:
    cond = {"ForAllValues:StringNotEquals": {"aws:TagKeys": ["secret"]}}
    assert when(cond, {"aws:TagKeys": ["a", "b"]}) is Decision.ALLOW
    assert when(cond, {"aws:TagKeys": ["a", "secret"]}) is Decision.NONE
    cond = {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["secret"]}}
    assert when(cond, {"aws:TagKeys": ["secret", "a"]}) is Decision.ALLOW


def test_deny_insecure_transport() -> None:
    deny = statement(
        Effect="Deny", Action="s3:*", Condition={"Bool": {"aws:SecureTransport": "false"}}
    )
    insecure = {"aws:SecureTransport": "false"}
    assert decide(deny, statement(), conditions=insecure) is Decision.DENY
    assert decide(deny, statement(), conditions={"aws:SecureTransport": "true"}) is (Decision.ALLOW)


def test_existing_object_tag_condition() -> None:
    cond = {"StringEquals": {"s3:ExistingObjectTag/classification": "public"}}
    assert when(cond, {"s3:ExistingObjectTag/classification": "public"}) is Decision.ALLOW
    assert when(cond, {"s3:ExistingObjectTag/classification": "secret"}) is Decision.NONE


# --- policy variables -----------------------------------------------------------------------


def home_statement(**fields: Any) -> dict[str, Any]:
    return statement(Principal={"AWS": "arn:aws:iam::lading:user/*"}, **fields)


def test_username_variable_in_resource() -> None:
    home = home_statement(Resource="arn:aws:s3:::bkt/home/${aws:username}/*")
    alice = {"aws:username": "alice"}
    assert decide(home, resource="arn:aws:s3:::bkt/home/alice/f", conditions=alice) is (
        Decision.ALLOW
    )
    assert decide(home, resource="arn:aws:s3:::bkt/home/bob/f", conditions=alice) is (Decision.NONE)


def test_missing_variable_means_the_statement_does_not_apply() -> None:
    home = home_statement(Resource="arn:aws:s3:::bkt/home/${aws:username}/*")
    deny = statement(Effect="Deny", Condition={"StringNotEquals": {"s3:prefix": "${aws:userid}"}})
    assert decide(home, resource="arn:aws:s3:::bkt/home//f") is Decision.NONE
    assert decide(deny, statement()) is Decision.ALLOW


def test_variable_values_are_literal_not_wildcards() -> None:
    home = home_statement(Resource="arn:aws:s3:::bkt/home/${aws:username}")
    star = {"aws:username": "*"}
    assert decide(home, resource="arn:aws:s3:::bkt/home/x", conditions=star) is Decision.NONE
    assert decide(home, resource="arn:aws:s3:::bkt/home/*", conditions=star) is Decision.ALLOW


def test_escapes_and_default_values() -> None:
    literal = statement(Resource="arn:aws:s3:::bkt/${*}${?}${$}")
    assert decide(literal, resource="arn:aws:s3:::bkt/*?$") is Decision.ALLOW
    assert decide(literal, resource="arn:aws:s3:::bkt/ab$") is Decision.NONE
    default = statement(Resource="arn:aws:s3:::bkt/${aws:username, 'guest'}/*")
    assert decide(default, resource="arn:aws:s3:::bkt/guest/x") is Decision.ALLOW


@pytest.mark.parametrize("version", ["2008-10-17", None])
def test_variables_are_literal_before_2012_10_17(version: str | None) -> None:
    home = statement(Resource="arn:aws:s3:::bkt/${aws:username}")
    alice = {"aws:username": "alice"}
    assert decide(home, version=version, resource="arn:aws:s3:::bkt/alice", conditions=alice) is (
        Decision.NONE
    )
    assert decide(home, version=version, resource="arn:aws:s3:::bkt/${aws:username}") is (
        Decision.ALLOW
    )


def test_variables_in_condition_values() -> None:
    cond = {
        "StringLike": {"s3:prefix": ["home/${aws:username}/*", ""]},
        "StringEquals": {"s3:delimiter": "${aws:username}"},
        "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/${aws:username}"},
    }
    listing = statement(Action="s3:ListBucket", Resource="arn:aws:s3:::bkt", Condition=cond)
    base = {"aws:username": "alice", "s3:delimiter": "alice", "aws:PrincipalArn": ALICE}
    request = {"action": "s3:ListBucket", "resource": "arn:aws:s3:::bkt"}
    ok = base | {"s3:prefix": "home/alice/docs"}
    assert decide(listing, conditions=ok, **request) is Decision.ALLOW
    other = base | {"s3:prefix": "home/bob/docs"}
    assert decide(listing, conditions=other, **request) is Decision.NONE


# --- public-ness ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, True),
        ({"Principal": {"AWS": "*"}}, True),
        ({"Principal": {"AWS": [ALICE, "*"]}}, True),
        ({"Principal": {"AWS": ALICE}}, False),
        ({"Principal": {"AWS": "arn:aws:iam::*:user/*"}}, False),
        ({"Effect": "Deny"}, False),
        ({"Principal": None, "NotPrincipal": {"AWS": ALICE}}, True),
        ({"Condition": {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}, False),
        ({"Condition": {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}}, True),
        ({"Condition": {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}, True),
        ({"Condition": {"Bool": {"aws:SecureTransport": "true"}}}, True),
        ({"Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}}}, False),
        ({"Condition": {"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}}}, True),
        ({"Condition": {"StringLike": {"aws:userid": "*"}}}, True),
        ({"Condition": {"StringLike": {"aws:userid": "AROLEID:*"}}}, False),
        ({"Condition": {"StringEquals": {"aws:PrincipalAccount": "lading"}}}, False),
        ({"Condition": {"StringEquals": {"s3:prefix": "public/"}}}, True),
    ],
)
def test_is_public(fields: dict[str, Any], expected: bool) -> None:
    assert policy(statement(**fields)).is_public() is expected


def test_one_public_statement_makes_the_policy_public() -> None:
    private = statement(Principal={"AWS": ALICE})
    assert policy(private).is_public() is False
    assert policy(private, statement(Sid="Public")).is_public() is True


# --- compiled once --------------------------------------------------------------------------


def test_evaluation_reuses_the_parsed_policy() -> None:
    parsed = policy(
        statement(Effect="Deny", Condition={"Bool": {"aws:SecureTransport": "false"}}),
        home_statement(Action="s3:*", Resource="arn:aws:s3:::bkt/home/${aws:username}/*"),
    )
    for name in ("alice", "bob", "alice"):
        request = ctx(
            user_arn(name),
            action="s3:PutObject",
            resource=f"arn:aws:s3:::bkt/home/{name}/f",
            conditions={"aws:username": name, "aws:SecureTransport": "true"},
        )
        assert parsed.evaluate(request) is Decision.ALLOW


# --- identity policies (attached to IAM users) ----------------------------------------------


def test_identity_policies_name_no_principal_and_reach_other_services() -> None:
    policy = parse_identity_policy(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": ["sns:List*", "s3:Get*"], "Resource": "*"},
                    {
                        "Effect": "Deny",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::secret/*",
                    },
                ],
            }
        )
    )

    def decide(action: str, resource: str = "*") -> Decision:
        return policy.evaluate(RequestContext(user_arn("ann"), action, resource))

    assert decide("sns:ListTopics") is Decision.ALLOW
    assert decide("sns:CreateTopic") is Decision.NONE
    assert decide("s3:GetObject", "arn:aws:s3:::open/k") is Decision.ALLOW
    assert decide("s3:GetObject", "arn:aws:s3:::secret/k") is Decision.DENY


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Principal": "*", "Action": "sns:ListTopics", "Resource": "*"},
        {"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*"},
        {"Effect": "Allow", "Action": "sns:ListTopics", "Resource": "topics"},
    ],
)
def test_malformed_identity_policies(statement: dict[str, Any]) -> None:
    with pytest.raises(MalformedPolicy):
        parse_identity_policy(json.dumps({"Statement": [statement]}))


def test_statement_ids_are_unique_in_identity_policies_only() -> None:
    """IAM refuses a repeated Sid; S3 takes bucket policies that repeat one (some in use
    repeat a whole statement), and every statement counts."""
    allow = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    twice = {"Statement": [{**allow, "Sid": "Same"}, {**allow, "Sid": "Same"}]}
    with pytest.raises(MalformedPolicy, match=r"Statement IDs \(SID\) in a single policy"):
        parse_identity_policy(json.dumps(twice))
    deny = statement(Sid="Same", Effect="Deny", Action="s3:PutObject")
    parsed = parse_policy(json.dumps({"Statement": [statement(Sid="Same"), deny]}), BUCKET)
    key = f"arn:aws:s3:::{BUCKET}/k"
    assert parsed.evaluate(RequestContext(user_arn("ann"), "s3:GetObject", key)) is Decision.ALLOW
    assert parsed.evaluate(RequestContext(user_arn("ann"), "s3:PutObject", key)) is Decision.DENY


def test_bucket_policies_still_refuse_sns_actions() -> None:
    with pytest.raises(MalformedPolicy):
        policy(statement(Action="sns:ListTopics"))
