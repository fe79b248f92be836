"""The IAM policy language as S3 bucket policies use it: parse, validate and evaluate.

Pure code: no I/O. `parse_policy` turns a policy document into a `Policy` whose wildcard
patterns are compiled once; `Policy.evaluate` answers for one `RequestContext` in AWS order
(an explicit Deny wins over an Allow; with neither the answer is `Decision.NONE`).

Policy variables (`${aws:username}`, `${*}`, `${?}`, `${$}`, `${key, 'default'}`) are
substituted in Resource and in String/Arn condition values when the policy's Version is
2012-10-17, as in AWS; in older or versionless policies they are literal text. A variable
the request has no single value for makes its statement not apply.
"""

from __future__ import annotations

import enum
import functools
import ipaddress
import json
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from lading import errors

ACCOUNT = "lading"
MAX_POLICY_BYTES = 20 * 1024
VERSIONS = ("2012-10-17", "2008-10-17")
_VARIABLES_VERSION = "2012-10-17"
_S3_ARN_PREFIX = "arn:aws:s3:::"

_NOT_JSON = "Policies must be valid JSON and the first byte must be '{'"
_POLICY_FIELDS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_FIELDS = frozenset(
    {
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
)
_ACTION_RE = re.compile(r"\*|s3:[A-Za-z0-9*?]+", re.IGNORECASE)
# identity policies (attached to IAM users) also name the SNS and IAM actions
_IDENTITY_ACTION_RE = re.compile(r"\*|(?:s3|sns|iam):[A-Za-z0-9*?]+", re.IGNORECASE)
_PRINCIPAL_ARN_RE = re.compile(r"arn:aws:(?:iam|sts)::[^:\s]*:\S+")
_PRINCIPAL_NAME_RE = re.compile(r"[^\s:]+")
_USER_ARN_RE = re.compile(r"arn:aws:iam::[^:]*:user/(?:.*/)?([^/]+)")
_CONDITION_KEY_RE = re.compile(r"[A-Za-z0-9-]+:\S.*", re.DOTALL)
_VARIABLE_RE = re.compile(r"\$\{([^}]*)\}")
_VARIABLE_BODY_RE = re.compile(r"\s*([A-Za-z0-9_.:/+=@-]+)\s*(?:,\s*'([^']*)'\s*)?")
_EPOCH_RE = re.compile(r"-?\d+(?:\.\d+)?")


def user_arn(name: str) -> str:
    """Return the principal ARN of the Lading user called name."""
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


class Decision(enum.Enum):
    """The verdict of a policy on one request."""

    ALLOW = "Allow"
    DENY = "Deny"
    NONE = "None"  # no statement applies


class Effect(enum.Enum):
    """The Effect of a statement."""

    ALLOW = "Allow"
    DENY = "Deny"


@dataclass(frozen=True)
class RequestContext:
    """A request as policies see it; principal_arn None means anonymous.

    Condition keys are case-insensitive; a key's value is one string or a list of strings.
    """

    principal_arn: str | None
    action: str
    resource: str
    conditions: Mapping[str, str | list[str]] = field(default_factory=dict)
    _keys: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)
    _user_name: str | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys = {
            key.lower(): (value,) if isinstance(value, str) else tuple(value)
            for key, value in self.conditions.items()
        }
        object.__setattr__(self, "_keys", keys)
        match = _USER_ARN_RE.fullmatch(self.principal_arn or "")
        object.__setattr__(self, "_user_name", match.group(1) if match else None)


_Keys = Mapping[str, Sequence[str]]
# RequestContext.principal_arn of a request an AWS-style service makes (server access logs)
SERVICE_PREFIX = "service:"


def _malformed(reason: str) -> errors.MalformedPolicy:
    return errors.MalformedPolicy(reason)


# --- wildcards and policy variables ---------------------------------------------------------


class _Unresolved(Exception):
    """A policy variable has no single value in the request."""


class _Part(enum.Enum):
    GLOB = 1  # text whose * and ? are wildcards
    LITERAL = 2  # text matched as is (the ${*} ${?} ${$} escapes)
    VARIABLE = 3  # a condition key (lower case), substituted literally


_Template = tuple[tuple[_Part, str, str | None], ...]


def _template(text: str, variables: bool) -> _Template:
    if not variables or "${" not in text:
        return ((_Part.GLOB, text, None),)
    parts: list[tuple[_Part, str, str | None]] = []
    pos = 0
    for found in _VARIABLE_RE.finditer(text):
        body = found.group(1)
        if body in ("*", "?", "$"):
            part: tuple[_Part, str, str | None] = (_Part.LITERAL, body, None)
        elif variable := _VARIABLE_BODY_RE.fullmatch(body):
            part = (_Part.VARIABLE, variable.group(1).lower(), variable.group(2))
        else:
            continue
        if found.start() > pos:
            parts.append((_Part.GLOB, text[pos : found.start()], None))
        parts.append(part)
        pos = found.end()
    if pos < len(text):
        parts.append((_Part.GLOB, text[pos:], None))
    return tuple(parts)


def _is_static(template: _Template) -> bool:
    return all(kind is not _Part.VARIABLE for kind, _, _ in template)


def _lookup(keys: _Keys, key: str, default: str | None) -> str:
    values = keys.get(key)
    if values is not None and len(values) == 1:
        return values[0]
    if default is not None:
        return default
    raise _Unresolved(key)


def _resolve_text(template: _Template, keys: _Keys) -> str:
    return "".join(
        _lookup(keys, text, default) if kind is _Part.VARIABLE else text
        for kind, text, default in template
    )


def _glob_source(template: _Template, keys: _Keys, *, arn: bool = False) -> str:
    """Translate to a regex: * any run (across '/'), ? one character.

    In a full ARN pattern (six components) a wildcard does not cross ':' in the first five.
    """
    pieces = [
        (kind is _Part.GLOB, _lookup(keys, raw, default) if kind is _Part.VARIABLE else raw)
        for kind, raw, default in template
    ]
    segmented = arn and sum(text.count(":") for _, text in pieces) >= 5
    out: list[str] = []
    colons = 0
    for wild, text in pieces:
        for char in text:
            if char == ":":
                colons += 1
            if wild and char == "*":
                out.append("[^:]*" if segmented and colons < 5 else ".*")
            elif wild and char == "?":
                out.append("[^:]" if segmented and colons < 5 else ".")
            else:
                out.append(re.escape(char))
    return "".join(out)


@functools.lru_cache(maxsize=4096)
def _compile(source: str, flags: int) -> re.Pattern[str]:
    return re.compile(source, flags | re.DOTALL)


class _Patterns:
    """A set of wildcard patterns; static ones share one compiled alternation."""

    __slots__ = ("_arn", "_dynamic", "_flags", "_static")

    def __init__(self, templates: Sequence[_Template], *, flags: int = 0, arn: bool = False):
        static = [_glob_source(t, {}, arn=arn) for t in templates if _is_static(t)]
        self._static = _compile("|".join(f"(?:{s})" for s in static), flags) if static else None
        self._dynamic = tuple(t for t in templates if not _is_static(t))
        self._flags = flags
        self._arn = arn

    def matches(self, value: str, keys: _Keys) -> bool:
        if self._static is not None and self._static.fullmatch(value):
            return True
        return any(
            _dynamic_regex(t, _variable_values(t, keys), self._flags, self._arn).fullmatch(value)
            for t in self._dynamic
        )


def _variable_values(template: _Template, keys: _Keys) -> tuple[str, ...]:
    return tuple(
        _lookup(keys, text, default) for kind, text, default in template if kind is _Part.VARIABLE
    )


@functools.lru_cache(maxsize=4096)
def _dynamic_regex(
    template: _Template, values: tuple[str, ...], flags: int, arn: bool
) -> re.Pattern[str]:
    """The regex of a template whose variables have the given values, in order."""
    resolved = iter(values)
    literal = tuple(
        (_Part.LITERAL, next(resolved), None) if kind is _Part.VARIABLE else (kind, text, default)
        for kind, text, default in template
    )
    return _compile(_glob_source(literal, {}, arn=arn), flags)


# --- principals -----------------------------------------------------------------------------


class _Principals:
    """Principal or NotPrincipal: everyone, ARN patterns, user-name patterns."""

    __slots__ = ("_arns", "_names", "everyone", "services")

    def __init__(self, raw: object) -> None:
        self.everyone = False
        # AWS service principals (logging.s3.amazonaws.com): no user request is one of them
        self.services: frozenset[str] = frozenset()
        arns: list[_Template] = []
        names: list[_Template] = []
        if raw == "*":
            self.everyone = True
        elif isinstance(raw, dict) and raw and set(raw) <= {"AWS", "CanonicalUser", "Service"}:
            self.services = frozenset(
                _strings(raw.get("Service", []), "Invalid principal in policy", empty=True)
            )
            for value in _strings(raw.get("AWS", []), "Invalid principal in policy", empty=True):
                if value == "*":
                    self.everyone = True
                elif value.startswith("arn:"):
                    if not _PRINCIPAL_ARN_RE.fullmatch(value):
                        raise _malformed("Invalid principal in policy")
                    arns.append(_template(value, False))
                elif _PRINCIPAL_NAME_RE.fullmatch(value):
                    names.append(_template(value, False))
                else:
                    raise _malformed("Invalid principal in policy")
            canonical = raw.get("CanonicalUser", [])
            for value in _strings(canonical, "Invalid principal in policy", empty=True):
                if not value or any(c.isspace() for c in value):
                    raise _malformed("Invalid principal in policy")
                names.append(((_Part.LITERAL, value, None),))
            if not (self.everyone or arns or names or self.services):
                raise _malformed("Invalid principal in policy")
        else:
            raise _malformed("Invalid principal in policy")
        self._arns = _Patterns(arns) if arns else None
        self._names = _Patterns(names) if names else None

    def matches(self, ctx: RequestContext) -> bool:
        if ctx.principal_arn is not None and ctx.principal_arn.startswith(SERVICE_PREFIX):
            # a service acting for the server matches its own name only, never "*"
            return ctx.principal_arn[len(SERVICE_PREFIX) :] in self.services
        if self.everyone:
            return True
        if ctx.principal_arn is None:
            return False
        if self._arns is not None and self._arns.matches(ctx.principal_arn, {}):
            return True
        name = ctx._user_name
        return self._names is not None and name is not None and self._names.matches(name, {})


# --- conditions -----------------------------------------------------------------------------


class _Kind(enum.Enum):
    STRING = "string"
    STRING_IGNORE_CASE = "string-ignore-case"
    STRING_LIKE = "string-like"
    NUMERIC = "numeric"
    DATE = "date"
    BOOL = "bool"
    IP = "ip"
    ARN = "arn"
    NULL = "null"


class _SetMode(enum.Enum):
    SINGLE = ""
    ANY = "foranyvalue:"
    ALL = "forallvalues:"


_Relation = Callable[[Any, Any], bool]

# lower-cased operator name -> (kind, negated, relation for numbers and dates)
_OPERATORS: dict[str, tuple[_Kind, bool, _Relation | None]] = {
    "stringequals": (_Kind.STRING, False, None),
    "stringnotequals": (_Kind.STRING, True, None),
    "stringequalsignorecase": (_Kind.STRING_IGNORE_CASE, False, None),
    "stringnotequalsignorecase": (_Kind.STRING_IGNORE_CASE, True, None),
    "stringlike": (_Kind.STRING_LIKE, False, None),
    "stringnotlike": (_Kind.STRING_LIKE, True, None),
    "bool": (_Kind.BOOL, False, None),
    "ipaddress": (_Kind.IP, False, None),
    "notipaddress": (_Kind.IP, True, None),
    "arnequals": (_Kind.ARN, False, None),
    "arnlike": (_Kind.ARN, False, None),
    "arnnotequals": (_Kind.ARN, True, None),
    "arnnotlike": (_Kind.ARN, True, None),
    "null": (_Kind.NULL, False, None),
}
for _prefix, _kind in (("numeric", _Kind.NUMERIC), ("date", _Kind.DATE)):
    _OPERATORS |= {
        f"{_prefix}equals": (_kind, False, operator.eq),
        f"{_prefix}notequals": (_kind, True, operator.eq),
        f"{_prefix}lessthan": (_kind, False, operator.lt),
        f"{_prefix}lessthanequals": (_kind, False, operator.le),
        f"{_prefix}greaterthan": (_kind, False, operator.gt),
        f"{_prefix}greaterthanequals": (_kind, False, operator.ge),
    }

# Keys whose fixed values make an Allow to everyone non-public (AWS's meaning of "public").
_RESTRICTING_KEYS = frozenset(
    {
        "aws:sourceip",
        "aws:sourcearn",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:sourceowner",
        "aws:sourceaccount",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:principalorgid",
        "aws:userid",
        "aws:username",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
        "s3:dataaccesspointarn",
        "s3:dataaccesspointaccount",
    }
)


def _parse_number(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _parse_date(text: str) -> datetime | None:
    text = text.strip()
    try:
        if _EPOCH_RE.fullmatch(text):
            return datetime.fromtimestamp(float(text), UTC)
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _condition_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise _malformed("Invalid condition value in policy")


class _Condition:
    """One key under one operator, with its policy values compiled."""

    __slots__ = (
        "_convert",
        "_hit",
        "if_exists",
        "key",
        "kind",
        "negated",
        "networks",
        "set_mode",
        "values",
        "variables",
    )

    def __init__(self, name: str, key: str, raw: object, variables: bool) -> None:
        lowered = name.lower()
        self.set_mode = _SetMode.SINGLE
        for mode in (_SetMode.ANY, _SetMode.ALL):
            if lowered.startswith(mode.value):
                self.set_mode = mode
                lowered = lowered[len(mode.value) :]
        self.if_exists = lowered.endswith("ifexists") and lowered != "ifexists"
        if self.if_exists:
            lowered = lowered[: -len("ifexists")]
        if lowered not in _OPERATORS:
            raise _malformed(f"Unknown condition operator: {name}")
        self.kind, self.negated, relation = _OPERATORS[lowered]
        if self.kind is _Kind.NULL and (self.if_exists or self.set_mode is not _SetMode.SINGLE):
            raise _malformed(f"Unknown condition operator: {name}")
        if not _CONDITION_KEY_RE.fullmatch(key):
            raise _malformed(f"Policy has an invalid condition key: {key}")
        self.key = key.lower()
        raw_values = raw if isinstance(raw, list) else [raw]
        if not raw_values:
            raise _malformed(f"Condition {name} has no value for {key}")
        self.values = tuple(_condition_value(v) for v in raw_values)
        self.networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
        self._convert: Callable[[str], Any] = str
        self.variables: tuple[tuple[str, str | None], ...] = ()
        self._hit: Callable[[Any, _Keys], bool] = self._build(name, relation, variables)

    def _invalid(self, name: str, value: str) -> errors.MalformedPolicy:
        return _malformed(f"Invalid value {value!r} for condition operator {name}")

    def _build(
        self, name: str, relation: _Relation | None, variables: bool
    ) -> Callable[[Any, _Keys], bool]:
        kind = self.kind
        if kind in (_Kind.BOOL, _Kind.NULL):
            flags = frozenset(v.lower() for v in self.values)
            if not flags <= {"true", "false"}:
                raise self._invalid(name, self.values[0])
            return lambda value, keys: value.lower() in flags
        if kind in (_Kind.NUMERIC, _Kind.DATE):
            parse: Callable[[str], Any] = _parse_number if kind is _Kind.NUMERIC else _parse_date
            limits = []
            for value in self.values:
                parsed = parse(value)
                if parsed is None:
                    raise self._invalid(name, value)
                limits.append(parsed)
            assert relation is not None
            self._convert = parse
            return lambda value, keys: any(relation(value, limit) for limit in limits)
        if kind is _Kind.IP:
            try:
                self.networks = tuple(ipaddress.ip_network(v, strict=False) for v in self.values)
            except ValueError:
                raise _malformed(f"Invalid IP address or CIDR in condition {name}") from None
            self._convert = _parse_ip
            networks = self.networks
            return lambda value, keys: any(value in network for network in networks)
        templates = [_template(v, variables) for v in self.values]
        self.variables = tuple(
            (text, default)
            for template in templates
            for part, text, default in template
            if part is _Part.VARIABLE
        )
        if kind in (_Kind.STRING_LIKE, _Kind.ARN):
            patterns = _Patterns(templates, arn=kind is _Kind.ARN)
            return patterns.matches
        fold = kind is _Kind.STRING_IGNORE_CASE
        static = frozenset(
            _resolve_text(t, {}).casefold() if fold else _resolve_text(t, {})
            for t in templates
            if _is_static(t)
        )
        dynamic = tuple(t for t in templates if not _is_static(t))
        if fold:
            self._convert = str.casefold

            def hit_folded(value: str, keys: _Keys) -> bool:
                return value in static or any(
                    _resolve_text(t, keys).casefold() == value for t in dynamic
                )

            return hit_folded

        def hit(value: str, keys: _Keys) -> bool:
            return value in static or any(_resolve_text(t, keys) == value for t in dynamic)

        return hit

    def test(self, keys: _Keys) -> bool:
        """Whether the request satisfies this condition (raise _Unresolved if it cannot say)."""
        for variable, default in self.variables:
            _lookup(keys, variable, default)
        values = keys.get(self.key) or ()
        if self.kind is _Kind.NULL:
            return any((flag.lower() == "true") != bool(values) for flag in self.values)
        if not values:
            if self.set_mode is _SetMode.ALL or self.if_exists:
                return True
            return self.negated and self.set_mode is _SetMode.SINGLE
        converted = [self._convert(v) for v in values]
        if self.set_mode is _SetMode.SINGLE:
            if any(c is None for c in converted):
                return False
            return any(self._hit(c, keys) for c in converted) != self.negated
        results = (c is not None and self._hit(c, keys) != self.negated for c in converted)
        return any(results) if self.set_mode is _SetMode.ANY else all(results)

    def restricts_public(self) -> bool:
        """Whether this condition pins a fixed value that keeps an Allow from being public."""
        if self.negated or self.if_exists or self.set_mode is _SetMode.ALL:
            return False
        if self.key not in _RESTRICTING_KEYS:
            return False
        if self.kind is _Kind.IP:
            return all(network.prefixlen > 0 for network in self.networks)
        if self.kind in (_Kind.STRING_LIKE, _Kind.ARN):
            return not any(set(v) <= {"*", "?"} for v in self.values)
        return self.kind in (_Kind.STRING, _Kind.STRING_IGNORE_CASE)


# --- statements and policies ----------------------------------------------------------------


def _strings(raw: object, reason: str, *, empty: bool = False) -> list[str]:
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and (raw or empty) and all(isinstance(v, str) for v in raw):
        return raw
    raise _malformed(reason)


def _one_of(raw: dict[str, Any], name: str) -> tuple[object, bool]:
    """Return the value of name or Not<name>, and whether it was the Not form."""
    if name in raw and f"Not{name}" in raw:
        raise _malformed(f"Statement cannot contain both {name} and Not{name}")
    if name in raw:
        return raw[name], False
    if f"Not{name}" in raw:
        return raw[f"Not{name}"], True
    raise _malformed(f"Missing required field {name}")


def _resource_template(value: str, bucket: str, variables: bool) -> _Template:
    if value != "*":
        if not value.startswith(_S3_ARN_PREFIX):
            raise _malformed("Policy has invalid resource")
        bucket_part = value[len(_S3_ARN_PREFIX) :].partition("/")[0]
        if bucket_part != bucket and not (
            ("*" in bucket_part or "?" in bucket_part)
            and _compile(_glob_source(_template(bucket_part, False), {}), 0).fullmatch(bucket)
        ):
            raise _malformed("Policy has invalid resource")
    return _template(value, variables)


class Statement:
    """One statement of a policy, with its patterns compiled."""

    __slots__ = (
        "_actions",
        "_conditions",
        "_not_action",
        "_not_principal",
        "_not_resource",
        "_principals",
        "_resources",
        "effect",
        "sid",
    )

    def __init__(
        self, raw: dict[str, Any], bucket: str, variables: bool, identity: bool = False
    ) -> None:
        unknown = sorted(set(raw) - _STATEMENT_FIELDS)
        if unknown:
            raise _malformed(f"Unknown field {unknown[0]}")
        sid = raw.get("Sid")
        if sid is not None and not isinstance(sid, str):
            raise _malformed("Invalid Sid: the statement ID must be a string")
        self.sid: str | None = sid
        if "Effect" not in raw:
            raise _malformed("Missing required field Effect")
        effect = raw["Effect"]
        if effect not in ("Allow", "Deny"):
            raise _malformed(f"Invalid effect: {effect}")
        self.effect = Effect(effect)

        if identity:  # an identity policy applies to the user it is attached to
            if "Principal" in raw or "NotPrincipal" in raw:
                raise _malformed("Identity policies name no Principal")
            self._principals, self._not_principal = _Principals("*"), False
        else:
            principal, self._not_principal = _one_of(raw, "Principal")
            self._principals = _Principals(principal)

        action, self._not_action = _one_of(raw, "Action")
        actions = _strings(action, "Policy has invalid action")
        action_re = _IDENTITY_ACTION_RE if identity else _ACTION_RE
        if not all(action_re.fullmatch(a) for a in actions):
            raise _malformed("Policy has invalid action")
        self._actions = _Patterns([_template(a, False) for a in actions], flags=re.IGNORECASE)

        resource, self._not_resource = _one_of(raw, "Resource")
        resources = _strings(resource, "Policy has invalid resource")
        if identity:
            if not all(r == "*" or r.startswith("arn:") for r in resources):
                raise _malformed("Policy has invalid resource")
            templates = [_template(r, variables) for r in resources]
        else:
            templates = [_resource_template(r, bucket, variables) for r in resources]
        self._resources = _Patterns(templates)

        condition = raw.get("Condition", {})
        if not isinstance(condition, dict):
            raise _malformed("Condition must be a JSON object")
        conditions: list[_Condition] = []
        for name, block in condition.items():
            if not isinstance(block, dict) or not block:
                raise _malformed(f"Condition {name} must map condition keys to values")
            conditions.extend(_Condition(name, k, v, variables) for k, v in block.items())
        self._conditions = tuple(conditions)

    def applies(self, ctx: RequestContext) -> bool:
        """Whether this statement covers the request (its effect then counts)."""
        keys = ctx._keys
        try:
            return (
                self._actions.matches(ctx.action, keys) != self._not_action
                and self._principals.matches(ctx) != self._not_principal
                and self._resources.matches(ctx.resource, keys) != self._not_resource
                and all(c.test(keys) for c in self._conditions)
            )
        except _Unresolved:
            return False

    def is_public(self) -> bool:
        """Whether this statement allows everyone, anonymous included, unconditionally."""
        if self.effect is not Effect.ALLOW:
            return False
        if not (self._not_principal or self._principals.everyone):
            return False
        return not any(c.restricts_public() for c in self._conditions)


@dataclass(frozen=True, eq=False)
class Policy:
    """A validated bucket policy; text is the document exactly as it was given."""

    text: str
    version: str | None
    policy_id: str | None
    statements: tuple[Statement, ...]

    def evaluate(self, ctx: RequestContext) -> Decision:
        """Return DENY if a Deny statement applies, else ALLOW if an Allow does, else NONE."""
        decision = Decision.NONE
        for statement in self.statements:
            if statement.applies(ctx):
                if statement.effect is Effect.DENY:
                    return Decision.DENY
                decision = Decision.ALLOW
        return decision

    def is_public(self) -> bool:
        """Whether the policy grants access to everyone (GetBucketPolicyStatus)."""
        return any(statement.is_public() for statement in self.statements)


def _reject_constant(name: str) -> None:
    raise ValueError(name)


def parse_policy(text: str | bytes, bucket: str) -> Policy:
    """Parse and validate the bucket policy text of bucket; raise MalformedPolicy if invalid."""
    return _parse(text, bucket, identity=False)


def parse_identity_policy(text: str | bytes) -> Policy:
    """Parse and validate a policy attached to a user (no Principal; S3, SNS and IAM
    actions; any ARN as resource); raise MalformedPolicy if invalid."""
    return _parse(text, "", identity=True)


def _parse(text: str | bytes, bucket: str, *, identity: bool) -> Policy:
    if isinstance(text, bytes):
        data = text
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed(_NOT_JSON) from None
    else:
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            raise _malformed(_NOT_JSON) from None
    if len(data) > MAX_POLICY_BYTES:
        raise _malformed("Policies must be less than 20 KB")
    if not text.lstrip().startswith("{"):
        raise _malformed(_NOT_JSON)
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise _malformed(_NOT_JSON) from None
    if not isinstance(document, dict):
        raise _malformed(_NOT_JSON)

    unknown = sorted(set(document) - _POLICY_FIELDS)
    if unknown:
        raise _malformed(f"Unknown field {unknown[0]}")
    version = document.get("Version")
    if version is not None and version not in VERSIONS:
        raise _malformed(f"Invalid policy version: {version}")
    policy_id = document.get("Id")
    if policy_id is not None and not isinstance(policy_id, str):
        raise _malformed("Invalid Id: the policy ID must be a string")
    raw_statements = document.get("Statement")
    if isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
    if not raw_statements:
        raise _malformed("Missing required field Statement")
    if not isinstance(raw_statements, list) or not all(isinstance(s, dict) for s in raw_statements):
        raise _malformed("Statement must be a JSON object or a list of them")

    variables = version == _VARIABLES_VERSION
    statements = tuple(Statement(raw, bucket, variables, identity) for raw in raw_statements)
    sids = [s.sid for s in statements if s.sid is not None]
    if identity and len(sids) != len(set(sids)):
        # IAM requires unique statement ids; S3 takes bucket policies that repeat one
        raise _malformed("Statement IDs (SID) in a single policy must be unique")
    return Policy(text, version, policy_id, statements)
