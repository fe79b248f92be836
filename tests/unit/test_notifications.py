"""Bucket notification rules: event names, configurations, topics, records, retry delays."""

from __future__ import annotations

from typing import Any

import pytest

from lading import errors, notifications
from lading.delivery import amqp_url, backoff_us
from lading.metadata.events import Topic
from lading.settings import EventSettings

ARN = "arn:aws:sns:us-east-1:alice:photos"


@pytest.mark.parametrize(
    ("kind", "cause", "marker", "expected"),
    [
        ("written", "Put", False, "s3:ObjectCreated:Put"),
        ("written", "Post", False, "s3:ObjectCreated:Post"),
        ("written", "Copy", False, "s3:ObjectCreated:Copy"),
        ("written", "CompleteMultipartUpload", False, "s3:ObjectCreated:CompleteMultipartUpload"),
        ("written", "Delete", True, "s3:ObjectRemoved:DeleteMarkerCreated"),
        ("written", "LifecycleExpiration", True, "s3:LifecycleExpiration:DeleteMarkerCreated"),
        ("removed", "Delete", False, "s3:ObjectRemoved:Delete"),
        ("removed", "Delete", True, "s3:ObjectRemoved:Delete"),
        ("removed", "LifecycleExpiration", False, "s3:LifecycleExpiration:Delete"),
        ("updated", "ObjectTagging:Put", False, "s3:ObjectTagging:Put"),
        ("updated", "ObjectTagging:Delete", False, "s3:ObjectTagging:Delete"),
        ("updated", "ObjectAcl:Put", False, "s3:ObjectAcl:Put"),
        ("updated", "ObjectRetention:Put", False, None),
        ("written", "Update", False, None),
    ],
)
def test_event_name_follows_s3s_vocabulary(
    kind: str, cause: str, marker: bool, expected: str | None
) -> None:
    assert notifications.event_name(kind, cause, marker) == expected


def config(**entry: Any) -> dict[str, Any]:
    return {"TopicConfiguration": [{"Topic": ARN, "Event": ["s3:ObjectCreated:*"], **entry}]}


def test_normalise_keeps_ids_filters_and_events() -> None:
    tree = config(
        Id="one",
        Filter={
            "S3Key": {
                "FilterRule": [
                    {"Name": "Suffix", "Value": ".csv"},
                    {"Name": "prefix", "Value": "in/"},
                ]
            }
        },
    )
    assert notifications.normalise(tree) == {
        "TopicConfiguration": [
            {
                "Id": "one",
                "Topic": ARN,
                "Event": ["s3:ObjectCreated:*"],
                "Filter": {
                    "S3Key": {
                        "FilterRule": [
                            {"Name": "prefix", "Value": "in/"},
                            {"Name": "suffix", "Value": ".csv"},
                        ]
                    }
                },
            }
        ]
    }


def test_normalise_gives_an_id_when_none_is_given() -> None:
    [entry] = notifications.normalise(config())["TopicConfiguration"]
    assert entry["Id"]


def test_an_empty_configuration_normalises_to_nothing() -> None:
    assert notifications.normalise({}) == {}


@pytest.mark.parametrize(
    ("tree", "error"),
    [
        (config(Event=["s3:ObjectCreated:Jump"]), errors.InvalidArgument),
        (config(Event=[]), errors.InvalidArgument),
        (config(Topic="arn:aws:sqs:us-east-1:alice:q"), errors.InvalidArgument),
        (
            config(Filter={"S3Key": {"FilterRule": [{"Name": "middle", "Value": "x"}]}}),
            errors.InvalidArgument,
        ),
        (
            config(
                Filter={
                    "S3Key": {
                        "FilterRule": [
                            {"Name": "prefix", "Value": "a"},
                            {"Name": "prefix", "Value": "b"},
                        ]
                    }
                }
            ),
            errors.InvalidArgument,
        ),
        (
            {"TopicConfiguration": [config(Id="x")["TopicConfiguration"][0]] * 2},
            errors.InvalidArgument,
        ),
        ({"QueueConfiguration": [{"Queue": "arn:aws:sqs:::q"}]}, errors.InvalidArgument),
        ({"Other": "x"}, errors.MalformedXML),
        (config(Unknown="x"), errors.MalformedXML),
    ],
)
def test_normalise_rejects_what_s3_rejects(tree: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        notifications.normalise(tree)


def test_rules_match_events_wildcards_prefix_and_suffix() -> None:
    tree = notifications.normalise(
        config(
            Id="r",
            Filter={
                "S3Key": {
                    "FilterRule": [
                        {"Name": "prefix", "Value": "in/"},
                        {"Name": "suffix", "Value": ".csv"},
                    ]
                }
            },
        )
    )
    [rule] = notifications.rules_of(tree)
    assert rule.matches("s3:ObjectCreated:Put", "in/a.csv")
    assert rule.matches("s3:ObjectCreated:CompleteMultipartUpload", "in/b.csv")
    assert not rule.matches("s3:ObjectRemoved:Delete", "in/a.csv")
    assert not rule.matches("s3:ObjectCreated:Put", "out/a.csv")
    assert not rule.matches("s3:ObjectCreated:Put", "in/a.txt")


def test_record_has_the_aws_shape() -> None:
    found = notifications.record(
        "s3:ObjectCreated:Put",
        rule_id="r",
        region="us-east-1",
        bucket="b",
        bucket_owner="alice",
        principal="bob",
        key="dir/a b+c.txt",
        size=11,
        etag='"5eb63bbbe01eeed093cb22bb8f5acdc3"',
        version_id="v1",
        event_time=1_700_000_000_123_456,
        opaque="ctx",
    )
    assert found["eventName"] == "ObjectCreated:Put"
    assert found["eventTime"] == "2023-11-14T22:13:20.123Z"
    assert found["eventSource"] == "aws:s3"
    assert found["s3"]["bucket"] == {
        "name": "b",
        "ownerIdentity": {"principalId": "alice"},
        "arn": "arn:aws:s3:::b",
    }
    assert found["s3"]["object"] == {
        "key": "dir/a+b%2Bc.txt",
        "size": 11,
        "eTag": "5eb63bbbe01eeed093cb22bb8f5acdc3",
        "versionId": "v1",
        "sequencer": f"{1_700_000_000_123_456:016X}",
    }
    assert found["opaqueData"] == "ctx"


def test_parse_arn_and_back() -> None:
    arn = notifications.parse_arn(ARN)
    assert (arn.region, arn.account, arn.name) == ("us-east-1", "alice", "photos")
    assert str(arn) == ARN


@pytest.mark.parametrize(
    "attributes",
    [
        {"push-endpoint": "kafka://broker:9092"},
        {"push-endpoint": "ftp://host/"},
        {"push-endpoint": "amqp://host:5672"},  # no exchange
        {"push-endpoint": "http://h/", "amqp-ack-level": "sometimes"},
        {"push-endpoint": "http://h/", "persistent": "yes"},
        {"colour": "blue"},
    ],
)
def test_bad_topic_attributes_are_refused(attributes: dict[str, str]) -> None:
    with pytest.raises(errors.InvalidTopicParameter):
        notifications.validate_attributes(attributes)


def test_radosgw_topic_attributes_are_accepted() -> None:
    attributes = {
        "push-endpoint": "amqp://192.168.81.196:5672",
        "amqp-exchange": "fairease-s3-events",
        "amqp-ack-level": "none",
        "persistent": "false",
        "verify-ssl": "true",
        "OpaqueData": "x",
    }
    assert notifications.validate_attributes(attributes) == attributes


@pytest.mark.parametrize("name", ["", "a" * 257, "has space", "dots.not.allowed"])
def test_bad_topic_names_are_refused(name: str) -> None:
    with pytest.raises(errors.InvalidTopicParameter):
        notifications.validate_topic_name(name)


def test_backoff_doubles_up_to_the_ceiling_with_jitter() -> None:
    settings = EventSettings(retry_base_seconds=1, retry_max_seconds=60)
    assert backoff_us(0, settings, lambda: 1.0) == 1_000_000
    assert backoff_us(3, settings, lambda: 1.0) == 8_000_000
    assert backoff_us(3, settings, lambda: 0.0) == 4_000_000
    assert backoff_us(50, settings, lambda: 1.0) == 60_000_000


def topic(**attributes: str) -> Topic:
    return Topic(1, 1, "alice", "t", attributes, 0)


def test_amqp_url_carries_the_tls_options_of_the_topic() -> None:
    plain = "amqp://broker:5672/vh"
    assert amqp_url(topic(**{"push-endpoint": plain, "verify-ssl": "false"})) == plain
    secure = "amqps://broker:5671/vh"
    assert amqp_url(topic(**{"push-endpoint": secure})) == secure
    assert (
        amqp_url(topic(**{"push-endpoint": secure, "verify-ssl": "false", "ca-location": "/c.pem"}))
        == "amqps://broker:5671/vh?no_verify_ssl=1&cafile=%2Fc.pem"
    )
