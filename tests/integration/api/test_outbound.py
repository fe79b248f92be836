"""The outbound policy through real servers: S3 transfer endpoints, topic push endpoints and
task webhooks that lead to denied addresses are refused when they are given, and again when
the server is about to connect."""

from __future__ import annotations

import http.server
import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from lading.client import BadRequestError, TransferClient
from lading.testing.server import RunningServer, run_server
from tests.conftest import make_client

METADATA_SERVICE = "http://169.254.169.254/latest/meta-data/"
REFUSED = "denied by the administrator's outbound settings"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lab = tmp_path_factory.mktemp("outbound-lab")
    (lab / "run").mkdir()
    (lab / "run" / "a.txt").write_bytes(b"alpha")
    return lab


def start(tmp: Path, lab: Path, **env: str) -> RunningServer:
    return run_server(
        tmp / "data",
        env={
            "LADING_TRANSFERS__POSIX_ROOTS": json.dumps({"lab": str(lab)}),
            "LADING_TRANSFERS__POLL_SECONDS": "0.2",
            "LADING_EVENTS__DELIVERY_SECONDS": "0.1",
            "LADING_EVENTS__RETRY_BASE_SECONDS": "0.2",
            "LADING_EVENTS__RETRY_MAX_SECONDS": "1",
            **env,
        },
    )


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory, lab: Path) -> Iterator[RunningServer]:
    """The default policy: loopback and private networks allowed, link-local denied."""
    running = start(tmp_path_factory.mktemp("open"), lab)
    yield running
    running.kill()


def transfers(server: RunningServer) -> TransferClient:
    return TransferClient(server.url, access_key=server.access_key, secret_key=server.secret_key)


def sns_client(server: RunningServer) -> Any:
    return boto3.client(
        "sns",
        endpoint_url=server.url,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name="us-east-1",
    )


def s3_endpoint(client: TransferClient, server: RunningServer, name: str, url: str) -> Any:
    s3 = make_client(server.url, server.access_key, server.secret_key)
    bucket = f"t-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    return client.create_endpoint(
        name,
        "s3",
        config={"url": url, "bucket": bucket},
        credentials={"access_key": server.access_key, "secret_key": server.secret_key},
    )


class Hook:
    """An HTTP endpoint on loopback that records the bodies POSTed to it."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        received = self.received

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers["Content-Length"])
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    running = Hook()
    yield running
    running.close()


def wait_for(condition: Any, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition never held")
        time.sleep(0.1)


# --- the default policy ------------------------------------------------------------------------


def test_an_s3_endpoint_at_the_metadata_service_is_refused(open_server: RunningServer) -> None:
    with transfers(open_server) as client:
        with pytest.raises(BadRequestError) as caught:
            s3_endpoint(client, open_server, "imds", "http://169.254.169.254/")
        assert caught.value.http_status == 400
        assert "169.254.169.254" in caught.value.message and REFUSED in caught.value.message
        assert "169.254.0.0/16" in caught.value.message
        assert "imds" not in [e["name"] for e in client.list_endpoints()]
        with pytest.raises(BadRequestError, match="fe80::/10"):
            s3_endpoint(client, open_server, "v6", "http://[fe80::1]:9000/")
        # the server's own loopback address is allowed by default (an internal endpoint)
        made = s3_endpoint(client, open_server, "self", open_server.url)
        assert made["kind"] == "s3"


def test_a_topic_pushing_to_a_link_local_address_is_refused(open_server: RunningServer) -> None:
    sns = sns_client(open_server)
    name = f"t-{uuid.uuid4().hex[:8]}"
    with pytest.raises(sns.exceptions.InvalidParameterException) as caught:
        sns.create_topic(Name=name, Attributes={"push-endpoint": METADATA_SERVICE})
    assert "169.254.0.0/16" in str(caught.value) and REFUSED in str(caught.value)
    assert name not in [t["TopicArn"].rsplit(":", 1)[1] for t in sns.list_topics()["Topics"]]
    # an existing topic cannot be pointed there either, and keeps its endpoint
    arn = sns.create_topic(Name=name, Attributes={"push-endpoint": "http://127.0.0.1:9/hook"})[
        "TopicArn"
    ]
    with pytest.raises(sns.exceptions.InvalidParameterException, match="fe80::/10"):
        sns.set_topic_attributes(
            TopicArn=arn, AttributeName="push-endpoint", AttributeValue="http://[fe80::1]/x"
        )
    shown = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert shown["push-endpoint"] == "http://127.0.0.1:9/hook"


def test_a_webhook_to_a_link_local_address_is_refused(open_server: RunningServer) -> None:
    with transfers(open_server) as client:
        if "lab" not in [e["name"] for e in client.list_endpoints()]:
            client.create_endpoint("lab", "posix", config={"root": "lab"})
        item = {"source_path": "run", "destination_path": "copy", "recursive": True}
        before = [t["task_id"] for t in client.list_transfers()]
        with pytest.raises(BadRequestError, match="169.254.0.0/16"):
            client.submit_transfer("lab", "lab", [item], notify_webhook=METADATA_SERVICE)
        assert [t["task_id"] for t in client.list_transfers()] == before


def test_a_webhook_is_not_redirected_to_a_link_local_address(open_server: RunningServer) -> None:
    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            self.send_response(307)
            self.send_header("Location", METADATA_SERVICE)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    redirecting = http.server.HTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=redirecting.serve_forever, daemon=True).start()
    try:
        with transfers(open_server) as client:
            if "lab" not in [e["name"] for e in client.list_endpoints()]:
                client.create_endpoint("lab", "posix", config={"root": "lab"})
            item = {"source_path": "run", "destination_path": "moved", "recursive": True}
            url = f"http://127.0.0.1:{redirecting.server_address[1]}/hook"
            task = client.submit_transfer("lab", "lab", [item], notify_webhook=url)
            assert client.wait_transfer(task["task_id"], timeout=60)["status"] == "SUCCEEDED"
            wait_for(
                lambda: list(client.transfer_events(task["task_id"]))[-1]["kind"] == "notify_failed"
            )
            last = list(client.transfer_events(task["task_id"]))[-1]
        assert "169.254.0.0/16" in json.dumps(last)
    finally:
        redirecting.shutdown()
        redirecting.server_close()


# --- deny_private and allow_networks -------------------------------------------------------------


def test_with_deny_private_loopback_is_refused(
    tmp_path_factory: pytest.TempPathFactory, lab: Path
) -> None:
    closed = start(tmp_path_factory.mktemp("closed"), lab, LADING_OUTBOUND__DENY_PRIVATE="true")
    try:
        with transfers(closed) as client:
            with pytest.raises(BadRequestError, match="127.0.0.0/8"):
                s3_endpoint(client, closed, "self", closed.url)
            port = closed.url.rsplit(":", 1)[1]
            with pytest.raises(BadRequestError, match="127.0.0.0/8|::1/128"):
                s3_endpoint(client, closed, "self", f"http://localhost:{port}")
            assert client.list_endpoints() == []
        sns = sns_client(closed)
        with pytest.raises(sns.exceptions.InvalidParameterException, match="127.0.0.0/8"):
            sns.create_topic(Name="local", Attributes={"push-endpoint": "http://127.0.0.1:9/"})
    finally:
        closed.kill()


def test_an_allowed_network_overrides_deny_private(
    tmp_path_factory: pytest.TempPathFactory, lab: Path
) -> None:
    allowing = start(
        tmp_path_factory.mktemp("allowing"),
        lab,
        LADING_OUTBOUND__DENY_PRIVATE="true",
        LADING_OUTBOUND__ALLOW_NETWORKS='["127.0.0.0/8"]',
    )
    try:
        with transfers(allowing) as client:
            client.create_endpoint("lab", "posix", config={"root": "lab"})
            store = s3_endpoint(client, allowing, "self", allowing.url)
            item = {"source_path": "run", "destination_path": "copy", "recursive": True}
            task = client.submit_transfer("lab", "self", [item])
            done = client.wait_transfer(task["task_id"], timeout=60)
            assert done["status"] == "SUCCEEDED", done
        s3 = make_client(allowing.url, allowing.access_key, allowing.secret_key)
        got = s3.get_object(Bucket=store["config"]["bucket"], Key="copy/a.txt")["Body"].read()
        assert got == b"alpha"
        with transfers(allowing) as client, pytest.raises(BadRequestError, match="10.0.0.0/8"):
            s3_endpoint(client, allowing, "private", "http://10.0.0.1:9000/")  # not allowed
    finally:
        allowing.kill()


# --- checked again right before connecting -------------------------------------------------------


def test_urls_stored_while_allowed_are_not_contacted_once_denied(
    tmp_path_factory: pytest.TempPathFactory, lab: Path, hook: Hook
) -> None:
    """What a URL leads to can change after it was stored (DNS, or here the policy)."""
    server = start(tmp_path_factory.mktemp("changing"), lab, LADING_TRANSFERS__SERVER_WORKERS="0")
    try:
        item = {"source_path": "run", "destination_path": "again", "recursive": True}
        with transfers(server) as client:
            client.create_endpoint("lab", "posix", config={"root": "lab"})
            s3_endpoint(client, server, "self", server.url)
            to_s3 = client.submit_transfer("lab", "self", [item])
            with_hook = client.submit_transfer("lab", "lab", [item], notify_webhook=hook.url)
        s3 = make_client(server.url, server.access_key, server.secret_key)
        bucket = f"t-{uuid.uuid4().hex[:12]}"
        s3.create_bucket(Bucket=bucket)
        sns = sns_client(server)
        arn = sns.create_topic(Name="changes", Attributes={"push-endpoint": hook.url})["TopicArn"]
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "TopicConfigurations": [{"TopicArn": arn, "Events": ["s3:ObjectCreated:*"]}]
            },
        )
        s3.put_object(Bucket=bucket, Key="before", Body=b"1")
        wait_for(lambda: len(hook.received) == 1)  # delivered while allowed

        server.env["LADING_OUTBOUND__DENY_PRIVATE"] = "true"
        server.env["LADING_TRANSFERS__SERVER_WORKERS"] = "1"
        server.restart()
        s3.put_object(Bucket=bucket, Key="after", Body=b"2")
        with transfers(server) as client:
            failed = client.wait_transfer(to_s3["task_id"], timeout=60)
            assert failed["status"] == "FAILED"
            assert "127.0.0.0/8" in failed["error"] and REFUSED in failed["error"]
            with pytest.raises(BadRequestError, match="127.0.0.0/8"):
                client.endpoint_ls("self")
            done = client.wait_transfer(with_hook["task_id"], timeout=60)
            assert done["status"] == "SUCCEEDED"
            events = list(client.transfer_events(with_hook["task_id"]))
        assert events[-1]["kind"] == "notify_failed"
        assert "127.0.0.0/8" in json.dumps(events[-1])
        wait_for(lambda: REFUSED in server.log())  # the deliverer's warning
        assert [r["Records"][0]["s3"]["object"]["key"] for r in hook.received] == ["before"]
    finally:
        server.kill()
