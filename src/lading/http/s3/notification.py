"""Bucket notifications on the S3 endpoint: the SNS-compatible topic API and the bucket's
NotificationConfiguration.

The topic API is what Ceph RadosGW offers and what `boto3.client("sns", endpoint_url=...)`
speaks: a form-encoded POST to "/" with `Action=CreateTopic|ListTopics|GetTopicAttributes|
SetTopicAttributes|DeleteTopic`, answered in SNS's XML. The same form answers the caller's
own identity in IAM's terms and the IAM users of administrators (lading.http.s3.iam).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.responses import Response

from lading import errors
from lading.http.s3 import iam, xml
from lading.http.s3.common import xml_response
from lading.http.s3.dispatch import ReqCtx
from lading.metadata.models import User

MAX_FORM = 256 * 1024


def _form(body: bytes) -> dict[str, str]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.InvalidTopicParameter("The request body is not UTF-8.") from exc
    return dict(parse_qsl(text, keep_blank_values=True))


def _attributes(form: dict[str, str]) -> dict[str, str]:
    """`Attributes.entry.N.key` / `.value` pairs of a CreateTopic form."""
    found: dict[str, str] = {}
    index = 1
    while f"Attributes.entry.{index}.key" in form:
        key = form[f"Attributes.entry.{index}.key"]
        found[key] = form.get(f"Attributes.entry.{index}.value", "")
        index += 1
    return found


def _need(form: dict[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise errors.InvalidTopicParameter(f"Invalid parameter: {name} is required")
    return value


def _caller(ctx: ReqCtx) -> User:
    user = ctx.principal.user
    if user is None:  # dispatch authorizes the topic API for signed requests only
        raise errors.AccessDenied()
    return user


async def sns_action(ctx: ReqCtx) -> Response:
    """One SNS-compatible topic API call; the action is named in the form body."""
    form = _form(await ctx.read_body(MAX_FORM))
    action = form.get("Action", "")
    caller = _caller(ctx)
    service = ctx.services.events
    result: list[str] | None = None
    if action == "CreateTopic":
        topic = await service.create_topic(caller, _need(form, "Name"), _attributes(form))
        result = xml.sns_topic_arn(service.arn(topic))
    elif action == "ListTopics":
        topics = await service.list_topics(caller)
        result = xml.sns_topics(service.arn(t) for t in topics)
    elif action == "GetTopicAttributes":
        topic = await service.get_topic(caller, _need(form, "TopicArn"))
        result = xml.sns_attributes(service.topic_attributes(topic))
    elif action == "SetTopicAttributes":
        await service.set_topic_attribute(
            caller,
            _need(form, "TopicArn"),
            _need(form, "AttributeName"),
            form.get("AttributeValue", ""),
        )
    elif action == "DeleteTopic":
        await service.delete_topic(caller, _need(form, "TopicArn"))
    elif action in iam.ACTIONS:
        result = await iam.answer(action, form, caller, ctx.principal.policies, ctx.services)
    else:
        raise errors.NotImplementedOperation(f"The action {action or '(none)'}")
    namespace = xml.IAM_NS if action in iam.ACTIONS else xml.SNS_NS
    return xml_response(xml.sns_response(action, result, ctx.request_id, namespace))


# --- the bucket's NotificationConfiguration ----------------------------------------------------

ROOT = "NotificationConfiguration"
REPEATED = frozenset(
    {
        "TopicConfiguration",
        "QueueConfiguration",
        "CloudFunctionConfiguration",
        "Event",
        "FilterRule",
    }
)


async def get_bucket_notification(ctx: ReqCtx) -> Response:
    tree = ctx.services.events.notification_tree(ctx.need_bucket())
    return xml_response(xml.config_document(ROOT, tree))


async def put_bucket_notification(ctx: ReqCtx) -> Response:
    tree = xml.parse_config(await ctx.read_body(), ROOT, REPEATED)
    await ctx.services.events.put_notification(ctx.need_bucket(), tree)
    return Response(status_code=200)
