"""The HTTP(S) deliveries connect to an address the outbound policy checked, never to a fresh
resolution of the name (DNS rebinding).

Two real servers listen on one port of loopback: 127.0.0.1 (where `localhost` resolves for
the system, so where a fresh resolution leads) and 127.0.0.2. The policy is given a resolver
that answers for `localhost` what a test says, call after call, and denies 127.0.0.1/32: a
delivery that reaches the server on 127.0.0.1 went where no check led it.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import ipaddress
import json
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from lading.delivery import DeliveryFailed, Publisher
from lading.metadata.events import Topic
from lading.metadata.migrate import upgrade
from lading.metadata.store import MetadataStore, create_engine
from lading.metadata.transfers import TaskRow, TransferStore
from lading.outbound import OutboundPolicy
from lading.services.transfer_notices import Notifier
from lading.services.transfers import task_view

FRESH, CHECKED = "127.0.0.1", "127.0.0.2"
DENIED = "127.0.0.1/32"


class Answers:
    """A resolver: `localhost` resolves to the next of `answers` (the last one repeats),
    an address to itself, any other name to nothing."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.calls = 0

    def __call__(self, host: str) -> list[str]:
        with contextlib.suppress(ValueError):
            return [str(ipaddress.ip_address(host))]
        if host != "localhost":
            return []
        self.calls += 1
        return self.answers[min(self.calls, len(self.answers)) - 1]


def policy(answers: Answers) -> OutboundPolicy:
    return OutboundPolicy((ipaddress.ip_network(DENIED),), resolver=answers)


class Server:
    """An HTTP(S) server on one address that records what it is sent (and the TLS SNI)."""

    def __init__(self, address: str, port: int, tls: ssl.SSLContext | None = None) -> None:
        self.received: list[dict[str, Any]] = []
        self.server_names: list[str | None] = []
        self.redirect_to = ""
        received, server = self.received, self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                self.do_POST()  # a POST redirected with 303 comes back as a GET

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if server.redirect_to and self.path == "/hook":
                    self.send_response(303)
                    self.send_header("Location", server.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                received.append({"path": self.path, "host": self.headers["Host"], "body": body})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.http = http.server.ThreadingHTTPServer((address, port), Handler)
        if tls is not None:
            tls.sni_callback = lambda _conn, name, _context: self.server_names.append(name)
            self.http.socket = tls.wrap_socket(self.http.socket, server_side=True)
        self.port = self.http.server_address[1]
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def tls_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> trustme.LeafCert:
    """A certificate for `localhost` only, its CA trusted by urllib and httpx."""
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    return ca.issue_cert("localhost")


def start_pair(tls: trustme.LeafCert | None = None) -> tuple[Server, Server]:
    """(the server a fresh resolution reaches, the one at the checked address), one port."""

    def context() -> ssl.SSLContext | None:
        if tls is None:
            return None
        made = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.configure_cert(made)
        return made

    for _ in range(20):
        fresh = Server(FRESH, 0, context())
        try:
            return fresh, Server(CHECKED, fresh.port, context())
        except OSError:  # the port is taken on 127.0.0.2: another one
            fresh.close()
    raise AssertionError("no port free on both addresses")


@pytest.fixture
def servers() -> Iterator[tuple[Server, Server]]:
    fresh, checked = start_pair()
    yield fresh, checked
    fresh.close()
    checked.close()


@pytest.fixture
def tls_servers(tls_files: trustme.LeafCert) -> Iterator[tuple[Server, Server]]:
    fresh, checked = start_pair(tls_files)
    yield fresh, checked
    fresh.close()
    checked.close()


def test_the_fresh_resolution_of_localhost_reaches_the_other_server() -> None:
    """What the tests below rely on: the system resolves `localhost` to 127.0.0.1 only."""
    found = {info[4][0] for info in socket.getaddrinfo("localhost", None, socket.AF_INET)}
    assert found == {FRESH}


# --- transfer task webhooks (urllib) -------------------------------------------------------------


@pytest.fixture(scope="module")
def transfer_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TransferStore]:
    engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('notices') / 'metadata.db'}")
    upgrade(engine)
    meta = MetadataStore(engine)
    meta.create_user("alice")
    yield TransferStore(meta)
    engine.dispose()


def ended_task(store: TransferStore, webhook: str) -> TaskRow:
    now = int(time.time() * 1_000_000)
    task_id = str(uuid.uuid4())
    row, _ = store.create_task(
        {
            "id": task_id,
            "owner_id": store.meta.get_user("alice").id,
            "submission_id": task_id,
            "label": "pinned",
            "source_id": 1,
            "destination_id": 1,
            "items": [],
            "options": {},
            "notify": {"webhook": webhook},
            "status": "SUCCEEDED",
            "phase": "done",
            "deadline": None,
            "created_at": now,
            "completed_at": now,
        }
    )
    return row


def notify(store: TransferStore, answers: Answers, webhook: str) -> dict[str, Any]:
    """Send the webhook of a task that ended; the event it recorded."""
    task = ended_task(store, webhook)
    Notifier(store, policy(answers)).task_changed(task, task_view(task))
    last: dict[str, Any] = store.list_events(task.id)[-1]
    return last


def test_a_webhook_goes_to_the_address_that_was_checked(
    transfer_store: TransferStore, servers: tuple[Server, Server]
) -> None:
    fresh, checked = servers
    event = notify(transfer_store, Answers([CHECKED]), f"http://localhost:{fresh.port}/hook")
    assert (event["kind"], event["details"]) == ("notified", {"webhook_status": 204})
    assert fresh.received == []
    assert [(r["path"], r["host"]) for r in checked.received] == [
        ("/hook", f"localhost:{fresh.port}")  # the name stays the Host
    ]
    assert json.loads(checked.received[0]["body"])["event"] == "transfer.ended"


def test_a_webhook_whose_name_turns_denied_as_it_connects_is_refused(
    transfer_store: TransferStore, servers: tuple[Server, Server]
) -> None:
    fresh, checked = servers
    answers = Answers([CHECKED], [FRESH])  # checked first, then rebound to a denied address
    event = notify(transfer_store, answers, f"http://localhost:{fresh.port}/hook")
    assert event["kind"] == "notify_failed"
    assert DENIED in event["details"]["error"] and FRESH in event["details"]["error"]
    assert fresh.received == [] and checked.received == []


@pytest.mark.parametrize(
    ("answers", "reached"),
    [
        ([[CHECKED]], ["/next"]),  # pinned: the redirect goes where it was checked
        ([[CHECKED], [FRESH]], []),  # rebound between the redirect's check and its connection
    ],
)
def test_a_webhook_redirect_is_checked_and_pinned_too(
    transfer_store: TransferStore,
    servers: tuple[Server, Server],
    answers: list[list[str]],
    reached: list[str],
) -> None:
    fresh, checked = servers
    checked.redirect_to = f"http://localhost:{fresh.port}/next"
    event = notify(transfer_store, Answers(*answers), f"http://{CHECKED}:{fresh.port}/hook")
    assert event["kind"] == ("notified" if reached else "notify_failed"), event
    assert fresh.received == []
    assert [r["path"] for r in checked.received] == reached


def test_an_https_webhook_names_the_host_for_sni_and_the_certificate(
    transfer_store: TransferStore, tls_servers: tuple[Server, Server]
) -> None:
    fresh, checked = tls_servers
    event = notify(transfer_store, Answers([CHECKED]), f"https://localhost:{fresh.port}/hook")
    assert event["kind"] == "notified", event
    assert fresh.received == [] and len(checked.received) == 1
    assert checked.server_names == ["localhost"]
    # the certificate is still verified, by the name: one for localhost does not do for
    # the address it was reached through
    event = notify(transfer_store, Answers([CHECKED]), f"https://{CHECKED}:{fresh.port}/hook")
    assert event["kind"] == "notify_failed" and "CERTIFICATE_VERIFY_FAILED" in json.dumps(event)
    assert len(checked.received) == 1


# --- HTTP push endpoints of topics (httpx) -------------------------------------------------------


def push(answers: Answers, endpoint: str, times: int = 1) -> None:
    """Publish `times` events to a topic pushing to `endpoint` (DeliveryFailed)."""
    topic = Topic(1, 1, "alice", "pinned", {"push-endpoint": endpoint}, 0)

    async def scenario() -> None:
        publisher = Publisher(5, policy(answers))
        try:
            for n in range(times):
                await publisher.publish(topic, json.dumps({"n": n}))
        finally:
            await publisher.close()

    asyncio.run(scenario())


def test_an_http_push_goes_to_the_address_that_was_checked(
    servers: tuple[Server, Server],
) -> None:
    fresh, checked = servers
    push(Answers([CHECKED]), f"http://localhost:{fresh.port}/events", times=2)
    assert fresh.received == []
    assert [(r["host"], json.loads(r["body"])) for r in checked.received] == [
        (f"localhost:{fresh.port}", {"n": 0}),
        (f"localhost:{fresh.port}", {"n": 1}),
    ]


def test_an_http_push_whose_name_turns_denied_as_it_connects_is_refused(
    servers: tuple[Server, Server],
) -> None:
    fresh, checked = servers
    with pytest.raises(DeliveryFailed) as caught:
        push(Answers([CHECKED], [FRESH]), f"http://localhost:{fresh.port}/events")
    assert DENIED in str(caught.value) and FRESH in str(caught.value)
    assert fresh.received == [] and checked.received == []


def test_an_https_push_names_the_host_for_sni_and_the_certificate(
    tls_servers: tuple[Server, Server],
) -> None:
    fresh, checked = tls_servers
    push(Answers([CHECKED]), f"https://localhost:{fresh.port}/events")
    assert fresh.received == [] and len(checked.received) == 1
    assert checked.server_names == ["localhost"]
    with pytest.raises(DeliveryFailed, match="CERTIFICATE_VERIFY_FAILED"):
        push(Answers([CHECKED]), f"https://{CHECKED}:{fresh.port}/events")
    assert len(checked.received) == 1


def test_no_proxy_of_the_environment_is_used(
    transfer_store: TransferStore, servers: tuple[Server, Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy would resolve the name itself: both deliveries connect directly."""
    fresh, checked = servers
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, f"http://{FRESH}:{fresh.port}")
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    event = notify(transfer_store, Answers([CHECKED]), f"http://localhost:{fresh.port}/hook")
    assert event["kind"] == "notified", event
    push(Answers([CHECKED]), f"http://localhost:{fresh.port}/events")
    assert fresh.received == []
    assert [r["path"] for r in checked.received] == ["/hook", "/events"]
