"""Notification topics (the SNS-compatible API) and bucket notification configurations."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from lading import errors, notifications
from lading.concurrency import run_blocking
from lading.metadata.events import CONFIG, EventStore, Topic
from lading.metadata.models import Bucket, User
from lading.outbound import OutboundPolicy
from lading.services.buckets import BucketService


class EventService:
    """Topics belong to the user who created them; their ARN names the user as the account."""

    def __init__(
        self,
        events: EventStore,
        buckets: BucketService,
        region: str,
        *,
        outbound: OutboundPolicy,
    ) -> None:
        self.events = events
        self.buckets = buckets
        self.region = region
        self.outbound = outbound

    def arn(self, topic: Topic) -> str:
        return topic.arn(self.region)

    async def create_topic(self, owner: User, name: str, attributes: Mapping[str, str]) -> Topic:
        """Create a topic, or replace the attributes of the caller's topic of that name."""
        notifications.validate_topic_name(name)
        checked = notifications.validate_attributes(attributes)
        await self._check_endpoint(checked)
        return await run_blocking(self.events.put_topic, owner, name, checked)

    async def _check_endpoint(self, attributes: Mapping[str, str]) -> None:
        """InvalidTopicParameter when the push-endpoint leads where the server may not go."""
        endpoint = attributes.get("push-endpoint", "")
        if not endpoint:
            return
        try:
            await run_blocking(self.outbound.check_url, endpoint)
        except errors.DestinationNotAllowed as exc:
            raise errors.InvalidTopicParameter(
                f"Invalid parameter: push-endpoint: {exc.message}"
            ) from exc

    async def get_topic(self, caller: User, arn: str) -> Topic:
        """The topic of an ARN; TopicAccessDenied for another user's, NoSuchTopic if none."""
        try:
            parsed = notifications.parse_arn(arn)
        except errors.InvalidArgument as exc:
            raise errors.InvalidTopicParameter(f"Invalid parameter: TopicArn {arn!r}") from exc
        if parsed.account != caller.name and not caller.is_admin:
            raise errors.TopicAccessDenied(arn)
        try:
            return await run_blocking(self.events.get_topic, parsed.account, parsed.name)
        except errors.NoSuchTopic:
            raise errors.NoSuchTopic(arn) from None

    async def list_topics(self, caller: User) -> list[Topic]:
        return await run_blocking(self.events.list_topics, caller.id)

    async def set_topic_attribute(self, caller: User, arn: str, name: str, value: str) -> None:
        topic = await self.get_topic(caller, arn)
        attributes = dict(topic.attributes)
        if value:
            attributes[name] = value
        else:
            attributes.pop(name, None)
        checked = notifications.validate_attributes(attributes)
        if name == "push-endpoint":
            await self._check_endpoint(checked)
        await run_blocking(self.events.set_topic_attributes, topic, checked)

    async def delete_topic(self, caller: User, arn: str) -> None:
        """Delete a topic and its undelivered events; a missing one is no error (as SNS)."""
        try:
            topic = await self.get_topic(caller, arn)
        except errors.NoSuchTopic:
            return
        await run_blocking(self.events.delete_topic, topic)

    def topic_attributes(self, topic: Topic) -> dict[str, str]:
        """What GetTopicAttributes shows: the stored attributes and the topic's identity."""
        shown = {"TopicArn": self.arn(topic), "Owner": topic.owner_name, "Name": topic.name}
        shown.update(topic.attributes)
        shown.setdefault("Policy", "")
        shown["EndPoint"] = json.dumps(
            {
                "EndpointAddress": topic.attributes.get("push-endpoint", ""),
                "EndpointArgs": "&".join(
                    f"{k}={v}" for k, v in sorted(topic.attributes.items()) if k != "Policy"
                ),
                "EndpointTopic": topic.name,
                "HasStoredSecret": False,
                "Persistent": notifications.flag(topic.attributes, "persistent", False),
            }
        )
        return shown

    # --- bucket notification configurations ------------------------------------------------

    def notification_tree(self, bucket: Bucket) -> dict[str, Any]:
        raw = bucket.configs.get(CONFIG)
        tree: dict[str, Any] = json.loads(raw) if raw else {}
        return tree

    async def put_notification(self, bucket: Bucket, tree: dict[str, Any]) -> None:
        """Store a bucket's notification configuration; an empty one removes it.

        Every topic must exist (InvalidArgument names a missing one) and belong to the
        bucket's owner, or allow the owner's account to publish through its Policy
        (AccessDenied otherwise).
        """
        normalised = notifications.normalise(tree)
        for rule in notifications.rules_of(normalised):
            arn = notifications.parse_arn(rule.topic_arn)
            foreign = arn.account != bucket.owner.name
            try:
                topic = await run_blocking(self.events.get_topic, arn.account, arn.name)
            except errors.NoSuchTopic:
                if foreign:
                    raise errors.AccessDenied(
                        f"The topic {rule.topic_arn} belongs to another account."
                    ) from None
                raise errors.InvalidArgument(
                    f"Unable to validate the following destination configurations: "
                    f"the topic {rule.topic_arn} does not exist"
                ) from None
            owner_arn = f"arn:aws:iam::{bucket.owner.name}:root"
            policy = topic.attributes.get("Policy", "")
            if foreign and not notifications.policy_allows_publish(
                policy, owner_arn, rule.topic_arn
            ):
                raise errors.AccessDenied(
                    f"The topic {rule.topic_arn} belongs to another account and its policy "
                    "does not let this bucket's owner publish to it."
                )
        document = json.dumps(normalised) if normalised else None
        await self.buckets.set_config(bucket, CONFIG, document)

    async def pending(self) -> int:
        return await run_blocking(self.events.pending)
