"""Put/GetBucketLogging: where a bucket's server access logs go (a target bucket and prefix).

The configuration is stored in `bucket_configs` (kind "logging"); the records themselves are
formatted and delivered by `lading.services.access_logs`.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from lading import errors
from lading.http.s3 import xml
from lading.http.s3.common import xml_response
from lading.http.s3.dispatch import ReqCtx
from lading.services.access_logs import CONFIG, LOGGING_SERVICE, delivery_allowed

_REPEATED = frozenset({"Grant"})
MAX_PREFIX = 512


async def get_bucket_logging(ctx: ReqCtx) -> Response:
    raw = ctx.need_bucket().configs.get(CONFIG)
    return xml_response(xml.bucket_logging_status(json.loads(raw) if raw else None))


def _text(tree: dict[str, Any], name: str) -> str:
    value = tree.get(name, "")
    if not isinstance(value, str):
        raise errors.MalformedXML(f"The element {name} must hold text.")
    return value.strip()


async def put_bucket_logging(ctx: ReqCtx) -> Response:
    bucket = ctx.need_bucket()
    tree = xml.parse_config(await ctx.read_body(), "BucketLoggingStatus", _REPEATED)
    enabled = tree.get("LoggingEnabled")
    if enabled is None or enabled == "":
        await ctx.services.buckets.set_config(bucket, CONFIG, None)
        return Response(status_code=200)
    if not isinstance(enabled, dict):
        raise errors.MalformedXML()
    target_name = _text(enabled, "TargetBucket")
    prefix = _text(enabled, "TargetPrefix") if "TargetPrefix" in enabled else ""
    if not target_name:
        raise errors.MalformedXML("LoggingEnabled needs a TargetBucket.")
    if len(prefix) > MAX_PREFIX:
        raise errors.InvalidArgument(f"The TargetPrefix is longer than {MAX_PREFIX} characters.")
    try:
        target = await ctx.services.buckets.get_bucket(target_name)
    except errors.NoSuchBucket:
        raise errors.InvalidTargetBucketForLogging(
            f"The target bucket for logging does not exist: {target_name}"
        ) from None
    if target.owner.id != bucket.owner.id:
        raise errors.InvalidTargetBucketForLogging(
            "The owner for the bucket to be logged and the target bucket must be the same."
        )
    if CONFIG in target.configs and target.name != bucket.name:
        raise errors.InvalidArgument("The target bucket for logging has logging enabled itself.")
    if not delivery_allowed(bucket, target, prefix):
        raise errors.AccessDenied(
            f"The policy of bucket {target.name} must allow {LOGGING_SERVICE} s3:PutObject "
            f"on {target.name}/{prefix} for source {bucket.name}."
        )
    # TargetGrants are accepted and not kept: log objects belong to the target's owner and
    # follow the target bucket's policy and ACL
    stored: dict[str, Any] = {"TargetBucket": target_name, "TargetPrefix": prefix}
    stored["TargetObjectKeyFormat"] = key_format(enabled.get("TargetObjectKeyFormat"))
    await ctx.services.buckets.set_config(bucket, CONFIG, json.dumps(stored))
    return Response(status_code=200)


def key_format(raw: object) -> dict[str, Any]:
    """TargetObjectKeyFormat, normalised: SimplePrefix (the default) or PartitionedPrefix."""
    if raw is None or raw == "":
        return {"SimplePrefix": {}}
    if not isinstance(raw, dict) or len(raw) != 1:
        raise errors.MalformedXML("TargetObjectKeyFormat holds one of its two formats.")
    if "SimplePrefix" in raw:
        return {"SimplePrefix": {}}
    partitioned = raw.get("PartitionedPrefix")
    if "PartitionedPrefix" not in raw:
        raise errors.MalformedXML("TargetObjectKeyFormat is SimplePrefix or PartitionedPrefix.")
    source = "EventTime"
    if isinstance(partitioned, dict) and "PartitionDateSource" in partitioned:
        source = str(partitioned["PartitionDateSource"])
    if source not in ("EventTime", "DeliveryTime"):
        raise errors.MalformedXML("PartitionDateSource is EventTime or DeliveryTime.")
    return {"PartitionedPrefix": {"PartitionDateSource": source}}
