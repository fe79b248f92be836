"""Bucket notifications end to end: boto3's sns and s3 clients, a real RabbitMQ, pika.

The tests run in a RabbitMQ virtual host of their own (created with rabbitmqctl and deleted
afterwards), so the seed's exchange name and consumer code run as they are written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import json
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import pika
import pytest
from boto3.s3.transfer import TransferConfig
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from lading.testing.server import RunningServer, run_server
from tests.conftest import empty_bucket, make_client, new_bucket_name
from tests.integration.s3.test_deployments import postgres_database  # noqa: F401 (fixture)
from tests.integration.tcp_proxy import TcpProxy

BROKER = ("127.0.0.1", 5672)
FAST_DELIVERY = {
    "LADING_EVENTS__DELIVERY_SECONDS": "0.1",
    "LADING_EVENTS__RETRY_BASE_SECONDS": "0.2",
    "LADING_EVENTS__RETRY_MAX_SECONDS": "1",
    "LADING_EVENTS__LEASE_SECONDS": "3",
    "LADING_EVENTS__PUBLISH_TIMEOUT_SECONDS": "3",
}
pytestmark = pytest.mark.skipif(
    shutil.which("rabbitmqctl") is None, reason="needs RabbitMQ (.ci/run starts it)"
)


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def vhost() -> Iterator[str]:
    """A RabbitMQ virtual host for this module, guest allowed, deleted at the end."""
    name = f"lading-test-{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", name)
    try:
        rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        yield name
    finally:
        rabbitmqctl("delete_vhost", name)


def amqp_url(vhost: str, port: int = BROKER[1]) -> str:
    return f"amqp://guest:guest@127.0.0.1:{port}/{quote(vhost, safe='')}"


@pytest.fixture(scope="module")
def events_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = run_server(tmp_path_factory.mktemp("events") / "data", env=FAST_DELIVERY)
    yield running
    running.kill()


def client_options(server: RunningServer, **keys: str) -> dict[str, Any]:
    return {
        "endpoint_url": server.url,
        "aws_access_key_id": keys.get("access_key", server.access_key),
        "aws_secret_access_key": keys.get("secret_key", server.secret_key),
        "region_name": "us-east-1",
    }


@pytest.fixture(scope="module")
def sns(events_server: RunningServer) -> Any:
    """boto3's sns client as botocore signs it by default (SigV4, service sns)."""
    return boto3.client("sns", **client_options(events_server))


@pytest.fixture(scope="module")
def s3(events_server: RunningServer) -> Any:
    return make_client(events_server.url, events_server.access_key, events_server.secret_key)


@pytest.fixture
def bucket(s3: Any) -> Iterator[str]:
    name = new_bucket_name()
    s3.create_bucket(Bucket=name)
    yield name
    empty_bucket(s3, name)


class Consumer:
    """A pika consumer bound to a fanout exchange with a queue of its own."""

    def __init__(self, vhost: str, exchange: str, port: int = BROKER[1]) -> None:
        params = pika.ConnectionParameters("localhost", port, virtual_host=vhost)
        self.connection = pika.BlockingConnection(params)
        self.channel = self.connection.channel()
        self.channel.exchange_declare(exchange=exchange, exchange_type="fanout")
        self.queue = self.channel.queue_declare(queue="", exclusive=True).method.queue
        self.channel.queue_bind(exchange=exchange, queue=self.queue)
        self.properties: list[Any] = []

    def records(self, count: int, timeout: float = 20, settle: float = 0.5) -> list[dict[str, Any]]:
        """At least `count` event records (and any more that come within `settle` seconds)."""
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        quiet_until: float | None = None
        while time.monotonic() < deadline:
            _method, properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if body is None:
                if quiet_until is not None and time.monotonic() > quiet_until:
                    break
                time.sleep(0.05)
                continue
            self.properties.append(properties)
            found += json.loads(body)["Records"]
            if len(found) >= count and quiet_until is None:
                quiet_until = time.monotonic() + settle
        return found

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.connection.close()


@pytest.fixture
def consumer_factory() -> Iterator[Callable[..., Consumer]]:
    made: list[Consumer] = []

    def make(vhost: str, exchange: str, port: int = BROKER[1]) -> Consumer:
        consumer = Consumer(vhost, exchange, port)
        made.append(consumer)
        return consumer

    yield make
    for consumer in made:
        consumer.close()


def summary(records: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [(r["eventName"], r["s3"]["object"]["key"], r["s3"]["object"]["size"]) for r in records]


# --- the seed's workflow -----------------------------------------------------------------------


def seed_consumer(vhost: str, received: list[bytes], ready: threading.Event) -> Any:
    """The seed's pika consumer, word for word but for the virtual host and the print."""
    connection = pika.BlockingConnection(pika.ConnectionParameters("localhost", virtual_host=vhost))
    channel = connection.channel()
    channel.exchange_declare(exchange="fairease-s3-events", exchange_type="fanout")

    result = channel.queue_declare(queue="", exclusive=True)
    queue_name = result.method.queue

    channel.queue_bind(exchange="fairease-s3-events", queue=queue_name)

    print(" [*] Waiting for logs. To exit press CTRL+C")

    def callback(ch: Any, method: Any, properties: Any, body: bytes) -> None:
        received.append(body)

    channel.basic_consume(queue=queue_name, on_message_callback=callback, auto_ack=True)
    ready.set()
    return connection, channel


def test_the_seed_workflow_gets_one_event_per_upload(
    events_server: RunningServer, vhost: str, tmp_path: Path
) -> None:
    received: list[bytes] = []
    ready = threading.Event()
    holder: list[Any] = []

    def consume() -> None:
        connection, channel = seed_consumer(vhost, received, ready)
        holder.append((connection, channel))
        channel.start_consuming()
        connection.close()

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    assert ready.wait(30)

    client_options = {
        "endpoint_url": events_server.url,
        "aws_access_key_id": events_server.access_key,
        "aws_secret_access_key": events_server.secret_key,
        "region_name": "us-east-1",
    }
    bucket_name = new_bucket_name()
    # ---- the seed, as written (push-endpoint: the broker of this machine) ----
    sns = boto3.client("sns", **client_options, config=Config(signature_version="s3"))
    topic_attributes = {
        "push-endpoint": amqp_url(vhost),
        "amqp-exchange": "fairease-s3-events",
        "amqp-ack-level": "none",
        "persistent": "false",
    }

    topic = sns.create_topic(Name="fairease", Attributes=topic_attributes)

    s3 = boto3.client("s3", **client_options)
    s3.create_bucket(Bucket=bucket_name)
    notifconfig = {
        "TopicConfigurations": [
            {
                "Id": "data",
                "TopicArn": topic["TopicArn"],
                "Events": [
                    "s3:ObjectCreated:*",
                ],
            }
        ]
    }

    s3.put_bucket_notification_configuration(
        Bucket=bucket_name, NotificationConfiguration=notifconfig
    )
    # ---- uploads: small, empty, and multipart ----
    s3.put_object(Bucket=bucket_name, Key="toto/E0033.tif", Body=b"x" * 1234)
    s3.put_object(Bucket=bucket_name, Key="empty", Body=b"")
    big = tmp_path / "big.bin"
    big.write_bytes(b"y" * (6 * 1024 * 1024))
    s3.upload_file(
        str(big), bucket_name, "big.bin", Config=TransferConfig(multipart_threshold=5 * 2**20)
    )
    expected = {
        key: (s3.head_object(Bucket=bucket_name, Key=key)["ETag"].strip('"'), size)
        for key, size in (("toto/E0033.tif", 1234), ("empty", 0), ("big.bin", 6 * 2**20))
    }
    deadline = time.monotonic() + 20
    while len(received) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # a duplicate would come now
    connection, channel = holder[0]
    connection.add_callback_threadsafe(channel.stop_consuming)
    thread.join(10)
    records = [r for body in received for r in json.loads(body)["Records"]]
    mine = [r for r in records if r["s3"]["bucket"]["name"] == bucket_name]
    got = {
        r["s3"]["object"]["key"]: (r["s3"]["object"]["eTag"], r["s3"]["object"]["size"])
        for r in mine
    }
    assert got == expected
    assert len(mine) == 3
    names = {r["s3"]["object"]["key"]: r["eventName"] for r in mine}
    assert names == {
        "toto/E0033.tif": "ObjectCreated:Put",
        "empty": "ObjectCreated:Put",
        "big.bin": "ObjectCreated:CompleteMultipartUpload",
    }
    assert {r["s3"]["configurationId"] for r in mine} == {"data"}
    empty_bucket(s3, bucket_name)


# --- event names, filters and message properties ------------------------------------------------


def test_each_change_is_named_and_filters_apply(
    sns: Any, s3: Any, bucket: str, vhost: str, consumer_factory: Callable[..., Consumer]
) -> None:
    exchange = f"x-{uuid.uuid4().hex[:8]}"
    consumer = consumer_factory(vhost, exchange)
    arn = sns.create_topic(
        Name=f"t-{uuid.uuid4().hex[:8]}",
        Attributes={
            "push-endpoint": amqp_url(vhost),
            "amqp-exchange": exchange,
            "amqp-ack-level": "broker",
            "persistent": "true",
        },
    )["TopicArn"]
    csv_filter = {
        "Key": {
            "FilterRules": [
                {"Name": "prefix", "Value": "data/"},
                {"Name": "suffix", "Value": ".csv"},
            ]
        }
    }
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "TopicConfigurations": [
                {
                    "Id": "created",
                    "TopicArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": csv_filter,
                },
                {"Id": "removed", "TopicArn": arn, "Events": ["s3:ObjectRemoved:*"]},
                {"Id": "tags", "TopicArn": arn, "Events": ["s3:ObjectTagging:*"]},
            ]
        },
    )

    def request_id(response: dict[str, Any]) -> str:
        return str(response["ResponseMetadata"]["RequestId"])

    made = [request_id(s3.put_object(Bucket=bucket, Key="data/a.csv", Body=b"a,b\n"))]
    s3.put_object(Bucket=bucket, Key="data/b.txt", Body=b"no")  # suffix does not match
    s3.put_object(Bucket=bucket, Key="other/c.csv", Body=b"no")  # prefix does not match
    copy_source = {"Bucket": bucket, "Key": "data/a.csv"}
    made.append(
        request_id(s3.copy_object(Bucket=bucket, Key="data/copy.csv", CopySource=copy_source))
    )
    tags = {"TagSet": [{"Key": "k", "Value": "v"}]}
    made.append(request_id(s3.put_object_tagging(Bucket=bucket, Key="data/a.csv", Tagging=tags)))
    etag = s3.head_object(Bucket=bucket, Key="data/a.csv")["ETag"].strip('"')
    made.append(request_id(s3.delete_object(Bucket=bucket, Key="data/a.csv")))
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    made.append(request_id(s3.delete_object(Bucket=bucket, Key="data/copy.csv")))
    records = consumer.records(5)
    # each record names the request that made the change, as S3's do
    assert [r["responseElements"]["x-amz-request-id"] for r in records] == made
    assert {r["requestParameters"]["sourceIPAddress"] for r in records} == {"127.0.0.1"}
    assert summary(records) == [
        ("ObjectCreated:Put", "data/a.csv", 4),
        ("ObjectCreated:Copy", "data/copy.csv", 4),
        ("ObjectTagging:Put", "data/a.csv", 4),
        ("ObjectRemoved:Delete", "data/a.csv", 4),
        ("ObjectRemoved:DeleteMarkerCreated", "data/copy.csv", 0),
    ]
    assert [r["s3"]["configurationId"] for r in records] == [
        "created",
        "created",
        "tags",
        "removed",
        "removed",
    ]
    assert records[3]["s3"]["object"]["eTag"] == etag
    assert "versionId" in records[4]["s3"]["object"]
    assert {p.delivery_mode for p in consumer.properties} == {2}  # persistent: true
    assert {p.content_type for p in consumer.properties} == {"application/json"}


def test_a_bucket_without_configuration_sends_nothing(
    events_server: RunningServer,
    sns: Any,
    s3: Any,
    bucket: str,
    vhost: str,
    consumer_factory: Callable[..., Consumer],
) -> None:
    exchange = f"x-{uuid.uuid4().hex[:8]}"
    consumer = consumer_factory(vhost, exchange)
    sns.create_topic(
        Name=f"t-{uuid.uuid4().hex[:8]}",
        Attributes={"push-endpoint": amqp_url(vhost), "amqp-exchange": exchange},
    )
    s3.put_object(Bucket=bucket, Key="a", Body=b"1")
    s3.delete_object(Bucket=bucket, Key="a")
    assert consumer.records(1, timeout=1.5) == []
    with contextlib.closing(sqlite3.connect(events_server.data_dir / "metadata.db")) as db:
        [(pending,)] = db.execute("SELECT count(*) FROM event_outbox").fetchall()
    assert pending == 0


# --- the topic API -----------------------------------------------------------------------------


def test_topics_are_created_listed_read_changed_and_deleted(sns: Any) -> None:
    name = f"t-{uuid.uuid4().hex[:8]}"
    attributes = {"push-endpoint": "http://127.0.0.1:9/hook", "OpaqueData": "lab-7"}
    arn = sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]
    assert arn == f"arn:aws:sns:us-east-1:root:{name}"
    assert arn in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    shown = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert shown["push-endpoint"] == "http://127.0.0.1:9/hook"
    assert shown["OpaqueData"] == "lab-7"
    assert shown["TopicArn"] == arn
    sns.set_topic_attributes(TopicArn=arn, AttributeName="OpaqueData", AttributeValue="lab-8")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["OpaqueData"] == "lab-8"
    # creating it again replaces its attributes, as RadosGW does, and keeps the ARN
    again = sns.create_topic(Name=name, Attributes={"push-endpoint": "https://h/x"})
    assert again["TopicArn"] == arn
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["push-endpoint"] == "https://h/x"
    sns.delete_topic(TopicArn=arn)
    assert arn not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.get_topic_attributes(TopicArn=arn)
    sns.delete_topic(TopicArn=arn)  # deleting what is gone is no error


@pytest.mark.parametrize(
    ("name", "attributes"),
    [
        pytest.param("has space", {}, id="bad-name"),
        pytest.param("ok", {"push-endpoint": "kafka://b:9092"}, id="kafka"),
        pytest.param("ok", {"push-endpoint": "amqp://127.0.0.1:5672"}, id="amqp-no-exchange"),
        pytest.param("ok", {"push-endpoint": "http://h/", "amqp-ack-level": "x"}, id="ack-level"),
        pytest.param("ok", {"colour": "blue"}, id="unknown-attribute"),
    ],
)
def test_bad_topics_are_refused_and_nothing_is_stored(
    sns: Any, name: str, attributes: dict[str, str]
) -> None:
    before = sns.list_topics()["Topics"]
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.create_topic(Name=name, Attributes=attributes)
    assert sns.list_topics()["Topics"] == before


def test_a_bad_attribute_change_keeps_the_topic_as_it_was(sns: Any) -> None:
    arn = sns.create_topic(Name=f"t-{uuid.uuid4().hex[:8]}")["TopicArn"]
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.set_topic_attributes(TopicArn=arn, AttributeName="persistent", AttributeValue="maybe")
    assert "persistent" not in sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    sns.delete_topic(TopicArn=arn)


def test_another_users_topic_is_out_of_reach(
    events_server: RunningServer, sns: Any, s3: Any, bucket: str
) -> None:
    arn = sns.create_topic(Name=f"t-{uuid.uuid4().hex[:8]}")["TopicArn"]
    alt = json.loads(events_server.admin("add-user", f"alt-{uuid.uuid4().hex[:6]}"))
    sns_alt = boto3.client("sns", **client_options(events_server, **alt))
    with pytest.raises(sns_alt.exceptions.AuthorizationErrorException):
        sns_alt.get_topic_attributes(TopicArn=arn)
    with pytest.raises(sns_alt.exceptions.AuthorizationErrorException):
        sns_alt.delete_topic(TopicArn=arn)
    assert arn not in [t["TopicArn"] for t in sns_alt.list_topics()["Topics"]]
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["TopicArn"] == arn
    # nor may another user's bucket send to it
    s3_alt = make_client(events_server.url, alt["access_key"], alt["secret_key"])
    alt_bucket = new_bucket_name()
    s3_alt.create_bucket(Bucket=alt_bucket)
    config = {"TopicConfigurations": [{"TopicArn": arn, "Events": ["s3:ObjectCreated:*"]}]}
    with pytest.raises(ClientError) as caught:
        s3_alt.put_bucket_notification_configuration(
            Bucket=alt_bucket, NotificationConfiguration=config
        )
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    s3_alt.delete_bucket(Bucket=alt_bucket)
    sns.delete_topic(TopicArn=arn)


def test_anonymous_and_badly_signed_topic_calls_are_refused(
    events_server: RunningServer, sns: Any
) -> None:
    anonymous = boto3.client(
        "sns", **client_options(events_server), config=Config(signature_version=UNSIGNED)
    )
    with pytest.raises(ClientError) as caught:
        anonymous.list_topics()
    assert caught.value.response["Error"]["Code"] == "AuthorizationError"
    forged = boto3.client(
        "sns", **client_options(events_server, secret_key="not-the-secret-key-at-all")
    )
    with pytest.raises(ClientError) as caught:
        forged.create_topic(Name="forged")
    assert caught.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert "forged" not in str(sns.list_topics()["Topics"])


# --- the bucket's configuration ----------------------------------------------------------------


def test_notification_configuration_round_trips_and_bad_ones_change_nothing(
    sns: Any, s3: Any, bucket: str
) -> None:
    assert "TopicConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)
    arn = sns.create_topic(Name=f"t-{uuid.uuid4().hex[:8]}")["TopicArn"]
    good = {
        "TopicConfigurations": [
            {
                "Id": "one",
                "TopicArn": arn,
                "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}},
            }
        ]
    }
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=good)
    shown = s3.get_bucket_notification_configuration(Bucket=bucket)["TopicConfigurations"]
    assert shown == good["TopicConfigurations"]
    missing = arn.rsplit(":", 1)[0] + ":no-such-topic"
    bad_configs = [
        {"TopicConfigurations": [{"TopicArn": arn, "Events": ["s3:ObjectMoved:*"]}]},
        {"TopicConfigurations": [{"TopicArn": missing, "Events": ["s3:ObjectCreated:*"]}]},
        {"TopicConfigurations": [{"TopicArn": "not-an-arn", "Events": ["s3:ObjectCreated:*"]}]},
        {
            "QueueConfigurations": [
                {"QueueArn": "arn:aws:sqs:us-east-1:1:q", "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    ]
    for bad in bad_configs:
        with pytest.raises(ClientError) as caught:
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=bad)
        assert caught.value.response["Error"]["Code"] == "InvalidArgument", bad
    shown = s3.get_bucket_notification_configuration(Bucket=bucket)["TopicConfigurations"]
    assert shown == good["TopicConfigurations"]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    assert "TopicConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)
    sns.delete_topic(TopicArn=arn)


# --- HTTP endpoints ----------------------------------------------------------------------------


class _Hook(http.server.BaseHTTPRequestHandler):
    bodies: list[bytes]
    failures: list[int]

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.failures:
            self.send_response(self.failures.pop(0))
        else:
            self.bodies.append(body)
            self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_an_http_endpoint_gets_the_event_after_failing_twice(
    sns: Any, s3: Any, bucket: str
) -> None:
    handler = type("Hook", (_Hook,), {"bodies": [], "failures": [503, 500]})
    endpoint = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=endpoint.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{endpoint.server_address[1]}/events"
        arn = sns.create_topic(Name=f"t-{uuid.uuid4().hex[:8]}", Attributes={"push-endpoint": url})[
            "TopicArn"
        ]
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "TopicConfigurations": [{"TopicArn": arn, "Events": ["s3:ObjectCreated:Put"]}]
            },
        )
        s3.put_object(Bucket=bucket, Key="hooked", Body=b"12345")
        deadline = time.monotonic() + 20
        while not handler.bodies and time.monotonic() < deadline:
            time.sleep(0.1)
        [body] = handler.bodies
        [record] = json.loads(body)["Records"]
        assert record["s3"]["object"]["key"] == "hooked"
        assert record["s3"]["object"]["size"] == 5
        assert handler.failures == []  # both failures were seen, then it was retried
        sns.delete_topic(TopicArn=arn)
    finally:
        endpoint.shutdown()
        endpoint.server_close()


# --- outages -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_no_event_is_lost_across_a_broker_outage_and_a_server_restart(
    tmp_path: Path, vhost: str, consumer_factory: Callable[..., Consumer]
) -> None:
    proxy = TcpProxy(BROKER)
    server = run_server(tmp_path / "data", env=FAST_DELIVERY)
    try:
        sns = boto3.client("sns", **client_options(server))
        s3 = make_client(server.url, server.access_key, server.secret_key)
        exchange = f"x-{uuid.uuid4().hex[:8]}"
        consumer = consumer_factory(vhost, exchange)  # straight to the broker
        arn = sns.create_topic(
            Name="outage",
            Attributes={
                "push-endpoint": amqp_url(vhost, proxy.port),
                "amqp-exchange": exchange,
                "amqp-ack-level": "broker",
            },
        )["TopicArn"]
        name = new_bucket_name()
        s3.create_bucket(Bucket=name)
        s3.put_bucket_notification_configuration(
            Bucket=name,
            NotificationConfiguration={
                "TopicConfigurations": [
                    {"TopicArn": arn, "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}
                ]
            },
        )
        s3.put_object(Bucket=name, Key="before", Body=b"0")
        assert summary(consumer.records(1)) == [("ObjectCreated:Put", "before", 1)]

        proxy.cut()
        for index in range(5):
            s3.put_object(Bucket=name, Key=f"during-{index}", Body=b"x" * index)
        s3.delete_object(Bucket=name, Key="before")
        time.sleep(2)  # deliveries fail and are retried meanwhile
        assert consumer.records(1, timeout=0.5) == []
        server.restart()  # a crash (SIGKILL) and a new start, the broker still away
        s3.put_object(Bucket=name, Key="after-restart", Body=b"yy")
        time.sleep(2)
        assert consumer.records(1, timeout=0.5) == []
        proxy.restore()
        records = consumer.records(7, timeout=30)
        keys = [(r["eventName"], r["s3"]["object"]["key"]) for r in records]
        expected = [("ObjectCreated:Put", f"during-{i}") for i in range(5)]
        expected += [("ObjectRemoved:Delete", "before"), ("ObjectCreated:Put", "after-restart")]
        assert sorted(set(keys)) == sorted(expected)  # every one, at least once
        assert "not delivered" in server.log()
        with contextlib.closing(sqlite3.connect(server.data_dir / "metadata.db")) as db:
            deadline = time.monotonic() + 10
            while db.execute("SELECT count(*) FROM event_outbox").fetchone()[0]:
                assert time.monotonic() < deadline, "delivered events stay in the outbox"
                time.sleep(0.1)
        empty_bucket(s3, name)
    finally:
        server.kill()
        proxy.close()


# --- lading worker -----------------------------------------------------------------------------


def test_lading_worker_delivers_lifecycle_expirations(
    tmp_path: Path, vhost: str, consumer_factory: Callable[..., Consumer]
) -> None:
    env = {**FAST_DELIVERY, "LADING_EVENTS__DELIVERY": "false", "LADING_LIFECYCLE_SECONDS": "0"}
    server = run_server(tmp_path / "data", env=env)  # delivers nothing itself
    try:
        sns = boto3.client("sns", **client_options(server))
        s3 = make_client(server.url, server.access_key, server.secret_key)
        exchange = f"x-{uuid.uuid4().hex[:8]}"
        consumer = consumer_factory(vhost, exchange)
        arn = sns.create_topic(
            Name="expiry", Attributes={"push-endpoint": amqp_url(vhost), "amqp-exchange": exchange}
        )["TopicArn"]
        name = new_bucket_name()
        s3.create_bucket(Bucket=name)
        s3.put_bucket_notification_configuration(
            Bucket=name,
            NotificationConfiguration={
                "TopicConfigurations": [
                    {
                        "TopicArn": arn,
                        "Events": ["s3:ObjectCreated:*", "s3:LifecycleExpiration:*"],
                    }
                ]
            },
        )
        s3.put_bucket_lifecycle_configuration(
            Bucket=name,
            LifecycleConfiguration={
                "Rules": [{"ID": "a", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}]
            },
        )
        s3.put_object(Bucket=name, Key="old", Body=b"abc")
        assert consumer.records(1, timeout=1.5) == []  # nobody delivers yet
        moment = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
        done = subprocess.run(
            [sys.executable, "-m", "lading", "worker", "--data-dir", str(server.data_dir)]
            + ["--once", "--now", moment.isoformat(), "--json"],
            env={**server.env, "LADING_EVENTS__DELIVERY": "true"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout.strip().splitlines()[-1])["expired"] == 1
        records = consumer.records(2)
        assert summary(records) == [
            ("ObjectCreated:Put", "old", 3),
            ("LifecycleExpiration:Delete", "old", 3),
        ]
        # the expiration is the server's own doing: no request, no source address
        assert records[1]["requestParameters"] == {"sourceIPAddress": ""}
        assert records[1]["responseElements"] == {}
        empty_bucket(s3, name)
    finally:
        server.kill()


# --- identity, as RadosGW's clients ask for it ------------------------------------------------


def test_iam_get_user_reports_the_caller_as_its_accounts_root(events_server: RunningServer) -> None:
    iam = boto3.client("iam", **client_options(events_server))
    user = iam.get_user()["User"]
    assert (user["UserName"], user["Arn"]) == ("root", "arn:aws:iam::root:root")
    assert iam.list_users()["Users"] == []  # Lading users are accounts, not IAM users
    with pytest.raises(ClientError) as caught:
        iam.create_role(RoleName="someone", AssumeRolePolicyDocument="{}")
    assert caught.value.response["Error"]["Code"] == "InvalidAction"


def test_query_apis_accept_a_request_signed_for_no_region(events_server: RunningServer) -> None:
    """What boto3 sends with region_name="" (ceph/s3-tests' IAM and SNS clients do)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    credentials = Credentials(events_server.access_key, events_server.secret_key)
    answers = {}
    for service, action in (("iam", "GetUser"), ("sns", "ListTopics"), ("s3", "ListTopics")):
        request = AWSRequest(
            "POST",
            events_server.url + "/",
            data=f"Action={action}&Version=2010-05-08".encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )
        SigV4Auth(credentials, service, "").add_auth(request)
        prepared = request.prepare()
        reply = urllib.request.Request(
            prepared.url, data=prepared.body, headers=dict(prepared.headers), method="POST"
        )
        try:
            with urllib.request.urlopen(reply, timeout=10) as response:
                answers[service] = (response.status, response.read())
        except urllib.error.HTTPError as exc:
            answers[service] = (exc.code, exc.read())
    assert answers["iam"][0] == 200 and b"arn:aws:iam::root:root" in answers["iam"][1]
    assert answers["sns"][0] == 200 and b"<ListTopicsResult>" in answers["sns"][1]
    assert answers["s3"][0] == 400  # signed for S3 with no region: refused


def test_s3_requests_still_need_the_servers_region(events_server: RunningServer) -> None:
    s3 = boto3.client("s3", **{**client_options(events_server), "region_name": "eu-west-1"})
    with pytest.raises(ClientError) as caught:
        s3.list_buckets()
    assert caught.value.response["Error"]["Code"] == "AuthorizationHeaderMalformed"


def test_a_topic_policy_lets_another_account_publish(
    events_server: RunningServer, sns: Any
) -> None:
    arn = sns.create_topic(Name=f"t-{uuid.uuid4().hex[:8]}")["TopicArn"]
    alt = json.loads(events_server.admin("add-user", f"alt-{uuid.uuid4().hex[:6]}"))
    s3_alt = make_client(events_server.url, alt["access_key"], alt["secret_key"])
    name = new_bucket_name()
    s3_alt.create_bucket(Bucket=name)
    config = {"TopicConfigurations": [{"TopicArn": arn, "Events": ["s3:ObjectCreated:*"]}]}
    with pytest.raises(ClientError) as caught:
        s3_alt.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration=config)
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue="{not json")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{alt['user']}:root"},
                "Action": "sns:Publish",
                "Resource": arn,
            }
        ],
    }
    sns.set_topic_attributes(
        TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(policy)
    )
    s3_alt.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration=config)
    shown = s3_alt.get_bucket_notification_configuration(Bucket=name)["TopicConfigurations"]
    assert [c["TopicArn"] for c in shown] == [arn]
    s3_alt.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={})
    s3_alt.delete_bucket(Bucket=name)
    sns.delete_topic(TopicArn=arn)


def test_routable_ack_level_retries_until_a_queue_takes_the_event(
    sns: Any, s3: Any, bucket: str, vhost: str, consumer_factory: Callable[..., Consumer]
) -> None:
    exchange = f"x-{uuid.uuid4().hex[:8]}"
    params = pika.ConnectionParameters("localhost", virtual_host=vhost)
    with contextlib.closing(pika.BlockingConnection(params)) as connection:
        connection.channel().exchange_declare(exchange=exchange, exchange_type="fanout")
    arn = sns.create_topic(
        Name=f"t-{uuid.uuid4().hex[:8]}",
        Attributes={
            "push-endpoint": amqp_url(vhost),
            "amqp-exchange": exchange,
            "amqp-ack-level": "routable",
        },
    )["TopicArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "TopicConfigurations": [{"TopicArn": arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    s3.put_object(Bucket=bucket, Key="unroutable-at-first", Body=b"1")
    time.sleep(1.5)  # no queue is bound: the broker returns it and it is retried
    consumer = consumer_factory(vhost, exchange)
    assert summary(consumer.records(1)) == [("ObjectCreated:Put", "unroutable-at-first", 1)]
    sns.delete_topic(TopicArn=arn)


# --- several processes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_two_server_processes_deliver_each_event_once(
    tmp_path: Path,
    vhost: str,
    consumer_factory: Callable[..., Consumer],
    database: str,
    request: pytest.FixtureRequest,
) -> None:
    env = dict(FAST_DELIVERY)
    if database == "postgres":
        env["LADING_METADATA__URL"] = request.getfixturevalue("postgres_database")
    server = run_server(tmp_path / "data", env=env, extra_args=["--workers", "2"])
    try:
        sns = boto3.client("sns", **client_options(server))
        s3 = make_client(server.url, server.access_key, server.secret_key)
        exchange = f"x-{uuid.uuid4().hex[:8]}"
        consumer = consumer_factory(vhost, exchange)
        arn = sns.create_topic(
            Name="shared", Attributes={"push-endpoint": amqp_url(vhost), "amqp-exchange": exchange}
        )["TopicArn"]
        name = new_bucket_name()
        s3.create_bucket(Bucket=name)
        s3.put_bucket_notification_configuration(
            Bucket=name,
            NotificationConfiguration={
                "TopicConfigurations": [{"TopicArn": arn, "Events": ["s3:ObjectCreated:*"]}]
            },
        )
        time.sleep(1.2)  # the other process's bucket cache (s3.bucket_cache_seconds)
        keys = [f"k{index:02d}" for index in range(30)]
        for key in keys:
            s3.put_object(Bucket=name, Key=key, Body=key.encode())
        records = consumer.records(len(keys), timeout=30, settle=1.5)
        assert sorted(r["s3"]["object"]["key"] for r in records) == keys
        empty_bucket(s3, name)
    finally:
        server.kill()
