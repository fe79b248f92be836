"""Bucket notifications: the event vocabulary, configurations, topics and event records.

Pure rules, no I/O. A bucket's NotificationConfiguration (TopicConfigurations with events and
prefix/suffix filters) is validated and normalised here, stored as the bucket's
"notification" document, and matched against each change of an object version. A matching
change becomes an S3 event record (`{"Records": [...]}`, AWS's format) that the outbox keeps
until it is delivered to the topic's push endpoint (AMQP or HTTP), as Ceph RadosGW does.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlsplit

from lading import errors

Tree = dict[str, Any]

# Event names a configuration may ask for (wildcards end in ":*"). Restore and replication
# events are accepted, as S3 does, but this server never emits them (it has no cold tiers).
EVENT_NAMES = frozenset(
    {
        "s3:ObjectCreated:*",
        "s3:ObjectCreated:Put",
        "s3:ObjectCreated:Post",
        "s3:ObjectCreated:Copy",
        "s3:ObjectCreated:CompleteMultipartUpload",
        "s3:ObjectRemoved:*",
        "s3:ObjectRemoved:Delete",
        "s3:ObjectRemoved:DeleteMarkerCreated",
        "s3:ObjectRestore:*",
        "s3:ObjectRestore:Post",
        "s3:ObjectRestore:Completed",
        "s3:ObjectRestore:Delete",
        "s3:ObjectTagging:*",
        "s3:ObjectTagging:Put",
        "s3:ObjectTagging:Delete",
        "s3:ObjectAcl:Put",
        "s3:LifecycleExpiration:*",
        "s3:LifecycleExpiration:Delete",
        "s3:LifecycleExpiration:DeleteMarkerCreated",
    }
)
# What the metadata store's hooks are told caused a change of kind "written" / "removed".
CREATED_CAUSES = frozenset({"Put", "Post", "Copy", "CompleteMultipartUpload"})
LIFECYCLE_CAUSE = "LifecycleExpiration"
DELETE_CAUSE = "Delete"
# Causes of in-place updates that make an event (the others, retention and legal hold, none).
UPDATE_EVENTS = {
    "ObjectTagging:Put": "s3:ObjectTagging:Put",
    "ObjectTagging:Delete": "s3:ObjectTagging:Delete",
    "ObjectAcl:Put": "s3:ObjectAcl:Put",
}
MAX_ID = 255
MAX_CONFIGURATIONS = 100

# --- event names -------------------------------------------------------------------------------


def event_name(kind: str, cause: str, delete_marker: bool) -> str | None:
    """The S3 event name of a change ("s3:ObjectCreated:Put"...), or None when it has none.

    `kind` and `cause` are what the metadata store's hooks receive; `delete_marker` tells
    whether the version written or removed is a delete marker.
    """
    if kind == "written":
        if delete_marker:
            prefix = "s3:LifecycleExpiration" if cause == LIFECYCLE_CAUSE else "s3:ObjectRemoved"
            return f"{prefix}:DeleteMarkerCreated"
        if cause in CREATED_CAUSES:
            return f"s3:ObjectCreated:{cause}"
        return None
    if kind == "removed":
        if cause == LIFECYCLE_CAUSE:
            return "s3:LifecycleExpiration:Delete"
        return "s3:ObjectRemoved:Delete"
    if kind == "updated":
        return UPDATE_EVENTS.get(cause)
    return None


def _covers(wanted: str, name: str) -> bool:
    if wanted.endswith(":*"):
        return name.startswith(wanted[:-1])
    return wanted == name


# --- configurations ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    """One TopicConfiguration: send these events for keys matching prefix and suffix."""

    id: str
    topic_arn: str
    events: tuple[str, ...]
    prefix: str = ""
    suffix: str = ""

    def matches(self, name: str, key: str) -> bool:
        return (
            any(_covers(wanted, name) for wanted in self.events)
            and key.startswith(self.prefix)
            and key.endswith(self.suffix)
        )


def _text(value: Any, what: str) -> str:
    if isinstance(value, dict | list):
        raise errors.MalformedXML(f"The element {what} must hold text.")
    return str(value or "").strip()


def _filter_rules(raw: Any) -> tuple[str, str, list[Tree]]:
    """(prefix, suffix, normalised FilterRules) of a Filter element."""
    if raw in (None, ""):
        return "", "", []
    if not isinstance(raw, dict) or set(raw) - {"S3Key"}:
        raise errors.InvalidArgument("A notification Filter holds only an S3Key element.")
    key = raw.get("S3Key") or {}
    if not isinstance(key, dict) or set(key) - {"FilterRule"}:
        raise errors.InvalidArgument("An S3Key filter holds only FilterRule elements.")
    found: dict[str, str] = {}
    for item in key.get("FilterRule", []):
        if not isinstance(item, dict):
            raise errors.MalformedXML()
        name = _text(item.get("Name"), "Name").lower()
        if name not in ("prefix", "suffix"):
            raise errors.InvalidArgument(
                f"FilterRule name must be either prefix or suffix, not {name!r}."
            )
        if name in found:
            raise errors.InvalidArgument(f"Cannot specify more than one {name} rule in a filter.")
        found[name] = str(item.get("Value") or "")
    rules = [{"Name": name, "Value": found[name]} for name in ("prefix", "suffix") if name in found]
    return found.get("prefix", ""), found.get("suffix", ""), rules


def normalise(tree: Tree) -> Tree:
    """A validated NotificationConfiguration tree (TopicConfiguration entries only).

    Raises InvalidArgument for an unknown event, a bad filter, a repeated Id, or a queue or
    Lambda destination (this server delivers to topics). Ids are generated when missing.
    """
    unknown = set(tree) - {"TopicConfiguration", "EventBridgeConfiguration"}
    if unknown & {"QueueConfiguration", "CloudFunctionConfiguration"}:
        raise errors.InvalidArgument(
            "Only TopicConfiguration destinations are supported (create topics through the "
            "SNS-compatible API)."
        )
    if unknown:
        raise errors.MalformedXML(f"Unexpected element {sorted(unknown)[0]}.")
    if "EventBridgeConfiguration" in tree:
        raise errors.InvalidArgument("EventBridge destinations are not supported.")
    entries = tree.get("TopicConfiguration", [])
    if len(entries) > MAX_CONFIGURATIONS:
        raise errors.InvalidArgument(
            f"A bucket holds at most {MAX_CONFIGURATIONS} notification configurations."
        )
    out: list[Tree] = []
    seen: set[str] = set()
    for entry in entries:
        if not isinstance(entry, dict):
            raise errors.MalformedXML()
        extra = set(entry) - {"Id", "Topic", "Event", "Filter"}
        if extra:
            raise errors.MalformedXML(f"Unexpected element {sorted(extra)[0]}.")
        rule_id = _text(entry.get("Id"), "Id") or uuid.uuid4().hex
        if len(rule_id) > MAX_ID:
            raise errors.InvalidArgument(f"A notification Id is at most {MAX_ID} characters.")
        if rule_id in seen:
            raise errors.InvalidArgument(f"The notification Id {rule_id!r} is used twice.")
        seen.add(rule_id)
        topic = _text(entry.get("Topic"), "Topic")
        parse_arn(topic)
        events = [_text(e, "Event") for e in entry.get("Event", [])]
        if not events:
            raise errors.InvalidArgument("A notification configuration needs at least one Event.")
        for name in events:
            if name not in EVENT_NAMES:
                raise errors.InvalidArgument(
                    f"The event is not supported for notifications: {name}"
                )
        _, _, filter_rules = _filter_rules(entry.get("Filter"))
        normalised: Tree = {"Id": rule_id, "Topic": topic, "Event": events}
        if filter_rules:
            normalised["Filter"] = {"S3Key": {"FilterRule": filter_rules}}
        out.append(normalised)
    return {"TopicConfiguration": out} if out else {}


def rules_of(tree: Mapping[str, Any]) -> tuple[Rule, ...]:
    """The rules of a normalised (stored) configuration tree."""
    rules = []
    for entry in tree.get("TopicConfiguration", []):
        prefix, suffix, _ = _filter_rules(entry.get("Filter"))
        rules.append(Rule(entry["Id"], entry["Topic"], tuple(entry["Event"]), prefix, suffix))
    return tuple(rules)


# --- topics ------------------------------------------------------------------------------------

TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")
BOOLEAN_ATTRIBUTES = ("persistent", "verify-ssl", "use-ssl", "cloudevents")
ACK_LEVELS = ("none", "broker", "routable")
# Attributes RadosGW's CreateTopic/SetTopicAttributes take; the others answer InvalidParameter.
# Stored and shown, but not applied per topic: cloudevents, time_to_live, max_retries and
# retry_sleep_duration (the events.* settings bound retries and age for every topic).
TOPIC_ATTRIBUTES = frozenset(
    {
        "push-endpoint",
        "amqp-exchange",
        "amqp-ack-level",
        "persistent",
        "verify-ssl",
        "use-ssl",
        "cloudevents",
        "OpaqueData",
        "Policy",
        "DisplayName",
        "time_to_live",
        "max_retries",
        "retry_sleep_duration",
        "ca-location",
    }
)
PUSH_SCHEMES = ("amqp", "amqps", "http", "https")


@dataclass(frozen=True, slots=True)
class TopicArn:
    region: str
    account: str
    name: str

    def __str__(self) -> str:
        return f"arn:aws:sns:{self.region}:{self.account}:{self.name}"


def parse_arn(text: str) -> TopicArn:
    """Split "arn:aws:sns:REGION:ACCOUNT:NAME"; raises InvalidArgument otherwise."""
    parts = text.split(":")
    if len(parts) != 6 or parts[:3] != ["arn", "aws", "sns"] or not TOPIC_NAME.fullmatch(parts[5]):
        raise errors.InvalidArgument(f"Invalid topic ARN: {text!r}")
    return TopicArn(parts[3], parts[4], parts[5])


def validate_topic_name(name: str) -> str:
    if not TOPIC_NAME.fullmatch(name):
        raise errors.InvalidTopicParameter(
            "Invalid parameter: Topic Name (1 to 256 letters, digits, '-' or '_')"
        )
    return name


def validate_attributes(attributes: Mapping[str, str]) -> dict[str, str]:
    """Topic attributes checked as a whole (endpoint scheme, ack level, booleans)."""
    for name in attributes:
        if name not in TOPIC_ATTRIBUTES:
            raise errors.InvalidTopicParameter(f"Invalid parameter: Attribute {name!r} is unknown")
    out = dict(attributes)
    endpoint = out.get("push-endpoint", "")
    if endpoint:
        parts = urlsplit(endpoint)
        if parts.scheme == "kafka":
            raise errors.InvalidTopicParameter(
                "Invalid parameter: kafka endpoints are not supported"
            )
        if parts.scheme not in PUSH_SCHEMES or not parts.hostname:
            raise errors.InvalidTopicParameter(
                f"Invalid parameter: push-endpoint {endpoint!r} must be an amqp://, amqps://, "
                "http:// or https:// URL"
            )
        if parts.scheme.startswith("amqp") and not out.get("amqp-exchange"):
            raise errors.InvalidTopicParameter(
                "Invalid parameter: an amqp push-endpoint needs the amqp-exchange attribute"
            )
    policy = out.get("Policy", "")
    if policy.strip():
        try:
            parsed = json.loads(policy)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise errors.InvalidTopicParameter("Invalid parameter: Policy must be a JSON object")
    level = out.get("amqp-ack-level", "broker")
    if level not in ACK_LEVELS:
        raise errors.InvalidTopicParameter(
            f"Invalid parameter: amqp-ack-level must be one of {', '.join(ACK_LEVELS)}"
        )
    for name in BOOLEAN_ATTRIBUTES:
        if name in out and out[name].lower() not in ("true", "false"):
            raise errors.InvalidTopicParameter(f"Invalid parameter: {name} must be true or false")
    return out


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_allows_publish(policy: str, principal_arn: str, topic_arn: str) -> bool:
    """Whether a topic's Policy lets `principal_arn` publish to it (an Allow of sns:Publish).

    Only Allow statements are read (Principal "*" or {"AWS": arn or [arns]}, Action
    "sns:Publish", "sns:*" or "*", Resource the topic or "*"); a Deny of the same wins.
    """
    if not policy.strip():
        return False
    try:
        document = json.loads(policy)
    except ValueError:
        return False
    if not isinstance(document, dict):
        return False
    allowed = False
    for statement in _listed(document.get("Statement", [])):
        if not isinstance(statement, dict):
            continue
        principal = statement.get("Principal")
        if isinstance(principal, dict):
            principal = principal.get("AWS")
        principals = _listed(principal)
        actions = _listed(statement.get("Action", []))
        resources = _listed(statement.get("Resource", "*"))
        if (
            ("*" in principals or principal_arn in principals)
            and any(a in ("sns:Publish", "sns:*", "*") for a in actions)
            and any(r in ("*", topic_arn) for r in resources)
        ):
            if statement.get("Effect") == "Deny":
                return False
            allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def flag(attributes: Mapping[str, str], name: str, default: bool) -> bool:
    value = attributes.get(name)
    return default if value is None else value.lower() == "true"


# --- event records -----------------------------------------------------------------------------


def _iso(micros: int) -> str:
    moment = dt.datetime.fromtimestamp(micros / 1_000_000, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def record(
    name: str,
    *,
    rule_id: str,
    region: str,
    bucket: str,
    bucket_owner: str,
    principal: str,
    key: str,
    size: int,
    etag: str,
    version_id: str,
    event_time: int,
    opaque: str = "",
    source_ip: str = "",
    request_id: str = "",
) -> dict[str, Any]:
    """One S3 event record in AWS's format (eventName without the "s3:" prefix).

    `source_ip` and `request_id` are the request's that made the change (empty for the
    server's own changes, such as lifecycle expiration).
    """
    obj: dict[str, Any] = {
        "key": quote_plus(key, safe="/"),
        "size": size,
        "eTag": etag.strip('"'),
        "sequencer": f"{event_time:016X}",
    }
    if version_id and version_id != "null":
        obj["versionId"] = version_id
    found: dict[str, Any] = {
        "eventVersion": "2.2",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": _iso(event_time),
        "eventName": name.removeprefix("s3:"),
        "userIdentity": {"principalId": principal},
        "requestParameters": {"sourceIPAddress": source_ip},
        "responseElements": (
            {"x-amz-request-id": request_id, "x-amz-id-2": request_id} if request_id else {}
        ),
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": rule_id,
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": bucket_owner},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": obj,
        },
    }
    if opaque:
        found["opaqueData"] = opaque
    return found
