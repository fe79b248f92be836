"""Bucket and object configuration documents: each kind validated and normalised as a tree.

A tree is what `lading.http.s3.xml.parse_config` makes of an S3 document (element -> text or
dict of children; repeated elements as lists). The normalised tree is stored as JSON and
rendered back unchanged, so what a client reads is what it wrote, in S3's element order.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from lading import errors

Tree = dict[str, Any]

MAX_BUCKET_TAGS = 50
MAX_OBJECT_TAGS = 10
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
DAY_US = 86_400 * 1_000_000


def _one(tree: Mapping[str, Any], name: str) -> Any:
    value = tree.get(name)
    if isinstance(value, list):
        raise errors.MalformedXML(f"The element {name} may appear only once.")
    return value


def _dict(value: Any) -> Tree:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise errors.MalformedXML()
    return value


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        raise errors.MalformedXML()
    return str(value or "")


# --- tags --------------------------------------------------------------------------------------


def validate_tags(tags: Mapping[str, str], limit: int) -> dict[str, str]:
    """A tag set within S3's limits (count, key and value lengths, no `aws:` keys)."""
    if len(tags) > limit:
        raise errors.InvalidTag(f"Object tags cannot be greater than {limit}")
    for key, value in tags.items():
        if not key or len(key) > MAX_TAG_KEY:
            raise errors.InvalidTag("The TagKey you have provided is invalid")
        if len(value) > MAX_TAG_VALUE:
            raise errors.InvalidTag("The TagValue you have provided is invalid")
        if key.lower().startswith("aws:"):
            raise errors.InvalidTag("System tags cannot be added/updated by requester")
    return dict(tags)


def tags_from_tree(tree: Tree, limit: int) -> dict[str, str]:
    """Tagging -> {key: value}; a key given twice is InvalidTag."""
    tag_set = _dict(_one(tree, "TagSet"))
    found: dict[str, str] = {}
    for tag in tag_set.get("Tag", []):
        tag = _dict(tag)
        key, value = tag.get("Key"), tag.get("Value")
        if key is None or value is None:
            raise errors.MalformedXML()
        if _text(key) in found:
            raise errors.InvalidTag("Cannot provide multiple Tags with the same key")
        found[_text(key)] = _text(value)
    return validate_tags(found, limit)


def tags_tree(tags: Mapping[str, str]) -> Tree:
    return {"TagSet": {"Tag": [{"Key": k, "Value": v} for k, v in tags.items()]}}


def tags_from_query(text: str, limit: int = MAX_OBJECT_TAGS) -> dict[str, str]:
    """The x-amz-tagging header (URL query encoding) as a validated tag set.

    A field without '=' is a tag with an empty value ("key1" is key1=""), as in S3.
    """
    pairs: list[tuple[str, str]] = []
    for field in text.split("&") if text else []:
        key, _, value = field.partition("=")
        if not key:
            raise errors.InvalidArgument(
                "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL "
                "query parameters without tag name duplicates."
            )
        pairs.append((unquote_plus(key), unquote_plus(value)))
    found: dict[str, str] = {}
    for key, value in pairs:
        if key in found:
            raise errors.InvalidTag("Cannot provide multiple Tags with the same key")
        found[key] = value
    return validate_tags(found, limit)


# --- versioning, object lock -------------------------------------------------------------------


def versioning_status(tree: Tree) -> str:
    """VersioningConfiguration -> "Enabled" or "Suspended"."""
    status = _text(_one(tree, "Status"))
    if status not in ("Enabled", "Suspended"):
        raise errors.MalformedXML("The versioning status must be Enabled or Suspended.")
    mfa = _one(tree, "MfaDelete")
    if mfa not in (None, "", "Disabled"):
        raise errors.NotImplementedOperation("MFA delete")
    return status


LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")


def object_lock_tree(tree: Tree) -> Tree:
    """ObjectLockConfiguration, normalised; the default retention is validated."""
    if _text(_one(tree, "ObjectLockEnabled")) != "Enabled":
        raise errors.MalformedXML("ObjectLockEnabled must be Enabled.")
    out: Tree = {"ObjectLockEnabled": "Enabled"}
    rule = _one(tree, "Rule")
    if rule is None:
        return out
    retention = _dict(_one(_dict(rule), "DefaultRetention"))
    mode = _text(retention.get("Mode"))
    if mode not in LOCK_MODES:
        raise errors.MalformedXML("The retention mode must be GOVERNANCE or COMPLIANCE.")
    days, years = retention.get("Days"), retention.get("Years")
    if (days is None) == (years is None):
        raise errors.MalformedXML("Specify exactly one of Days or Years.")
    count = _text(days if days is not None else years)
    if not count.lstrip("-").isdigit():
        raise errors.MalformedXML()
    if int(count) <= 0:
        raise errors.InvalidRetentionPeriod(
            "Default retention period must be a positive integer value."
        )
    period = {"Days": count} if days is not None else {"Years": count}
    out["Rule"] = {"DefaultRetention": {"Mode": mode, **period}}
    return out


def default_retention(config: Tree, now_us: int) -> tuple[str, int] | None:
    """(mode, retain-until in epoch microseconds) a new version gets from the bucket default."""
    retention = config.get("Rule", {}).get("DefaultRetention")
    if not retention:
        return None
    days = int(retention["Days"]) if "Days" in retention else int(retention["Years"]) * 365
    return retention["Mode"], now_us + days * DAY_US


def parse_time(text: str) -> int:
    """An ISO 8601 timestamp (as S3 documents carry) in epoch microseconds."""
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise errors.MalformedXML(f"The date {text!r} is not an ISO 8601 timestamp.") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1_000_000)


def retention_from_tree(tree: Tree) -> tuple[str, int]:
    """Retention -> (mode, retain-until microseconds)."""
    mode = _text(_one(tree, "Mode"))
    until = _one(tree, "RetainUntilDate")
    if mode not in LOCK_MODES or until is None:
        raise errors.MalformedXML()
    return mode, parse_time(_text(until))


def legal_hold_from_tree(tree: Tree) -> bool:
    status = _text(_one(tree, "Status"))
    if status not in ("ON", "OFF"):
        raise errors.MalformedXML("The legal hold status must be ON or OFF.")
    return status == "ON"


# --- the rest ----------------------------------------------------------------------------------

PAB_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def public_access_block_tree(tree: Tree) -> Tree:
    out: Tree = {}
    for flag in PAB_FLAGS:
        value = _text(_one(tree, flag) or "false").lower()
        if value not in ("true", "false"):
            raise errors.MalformedXML(f"{flag} must be true or false.")
        out[flag] = value
    return out


def public_access_flags(configs: Mapping[str, str]) -> dict[str, bool]:
    """The bucket's public access block flags (all false when none is set)."""
    raw = configs.get("public-access-block")
    tree = json.loads(raw) if raw else {}
    return {flag: tree.get(flag) == "true" for flag in PAB_FLAGS}


SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")


def encryption_tree(tree: Tree) -> Tree:
    """ServerSideEncryptionConfiguration: AES256 (SSE-S3), or aws:kms under a named KMS key."""
    rules = tree.get("Rule") or []
    if len(rules) != 1:
        raise errors.MalformedXML("Specify exactly one encryption rule.")
    default = _dict(_dict(rules[0]).get("ApplyServerSideEncryptionByDefault"))
    algorithm = _text(default.get("SSEAlgorithm"))
    if algorithm not in SSE_ALGORITHMS:
        raise errors.MalformedXML(f"The SSE algorithm {algorithm!r} is not valid.")
    if algorithm == "aws:kms:dsse":
        raise errors.NotImplementedOperation(f"PutBucketEncryption with {algorithm}")
    key_id = _text(default.get("KMSMasterKeyID")).strip()
    applied: dict[str, object] = {"SSEAlgorithm": algorithm}
    if algorithm == "aws:kms":
        if not key_id:
            raise errors.InvalidArgument("An aws:kms default encryption needs a KMSMasterKeyID.")
        applied["KMSMasterKeyID"] = key_id
    elif key_id:
        raise errors.InvalidArgument("KMSMasterKeyID is only valid with the aws:kms algorithm.")
    return {"Rule": [{"ApplyServerSideEncryptionByDefault": applied}]}


def default_encryption(configs: Mapping[str, str]) -> tuple[str, str | None] | None:
    """The bucket's default encryption: (algorithm, KMS key id or None), or None."""
    raw = configs.get("encryption")
    if raw is None:
        return None
    applied = json.loads(raw)["Rule"][0]["ApplyServerSideEncryptionByDefault"]
    key_id = applied.get("KMSMasterKeyID")
    return str(applied["SSEAlgorithm"]), str(key_id) if key_id else None


OWNERSHIPS = ("BucketOwnerPreferred", "ObjectWriter", "BucketOwnerEnforced")
ENFORCED = "BucketOwnerEnforced"
BUCKET_OWNER_FULL_CONTROL = "bucket-owner-full-control"


def object_ownership(configs: Mapping[str, str]) -> str:
    """The bucket's ObjectOwnership setting; "" without ownership controls (ObjectWriter)."""
    raw = configs.get("ownership")
    return str(json.loads(raw)["Rule"][0]["ObjectOwnership"]) if raw else ""


def ownership_tree(tree: Tree) -> Tree:
    rules = tree.get("Rule") or []
    if len(rules) != 1:
        raise errors.MalformedXML("Specify exactly one ownership rule.")
    value = _text(_dict(rules[0]).get("ObjectOwnership"))
    if value not in OWNERSHIPS:
        raise errors.MalformedXML(f"The object ownership {value!r} is not valid.")
    return {"Rule": [{"ObjectOwnership": value}]}


@dataclass(frozen=True, slots=True)
class ConfigKind:
    """One kind of bucket configuration stored as a document: how to check and name it."""

    name: str  # key in Bucket.configs
    root: str  # the S3 document's root element
    repeated: frozenset[str]
    normalise: Callable[[Tree], Tree]
    missing: type[errors.NoSuchConfiguration]


def _bucket_tags(tree: Tree) -> Tree:
    return tags_tree(tags_from_tree(tree, MAX_BUCKET_TAGS))


def _lifecycle(tree: Tree) -> Tree:
    from lading import lifecycle

    lifecycle.parse_rules(tree)
    return lifecycle.normalize(tree)


def _cors(tree: Tree) -> Tree:
    from lading import cors

    return cors.normalise(tree)


KINDS: dict[str, ConfigKind] = {
    kind.name: kind
    for kind in (
        ConfigKind("tagging", "Tagging", frozenset({"Tag"}), _bucket_tags, errors.NoSuchTagSet),
        ConfigKind(
            "cors",
            "CORSConfiguration",
            frozenset(
                {"CORSRule", "AllowedOrigin", "AllowedMethod", "AllowedHeader", "ExposeHeader"}
            ),
            _cors,
            errors.NoSuchCORSConfiguration,
        ),
        ConfigKind(
            "lifecycle",
            "LifecycleConfiguration",
            frozenset({"Rule", "Tag", "Transition", "NoncurrentVersionTransition"}),
            _lifecycle,
            errors.NoSuchLifecycleConfiguration,
        ),
        ConfigKind(
            "encryption",
            "ServerSideEncryptionConfiguration",
            frozenset({"Rule"}),
            encryption_tree,
            errors.NoSuchEncryptionConfiguration,
        ),
        ConfigKind(
            "object-lock",
            "ObjectLockConfiguration",
            frozenset(),
            object_lock_tree,
            errors.NoSuchObjectLockConfiguration,
        ),
        ConfigKind(
            "public-access-block",
            "PublicAccessBlockConfiguration",
            frozenset(),
            public_access_block_tree,
            errors.NoSuchPublicAccessBlockConfiguration,
        ),
        ConfigKind(
            "ownership",
            "OwnershipControls",
            frozenset({"Rule"}),
            ownership_tree,
            errors.NoSuchOwnershipControls,
        ),
    )
}
