"""Share notifications through a real SMTP server (aiosmtpd), and when it cannot be reached."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from lading.client import SharesClient
from lading.testing.server import RunningServer, free_port, serving
from tests.integration.access.conftest import add_actor, root_api


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"lading", b"s3cret")
    return AuthResult(success=ok)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_require_tls=False,
    )
    controller.start()
    yield inbox, port
    controller.stop()


def share_with_notice(server: RunningServer, address: str) -> dict[str, Any]:
    owner, grantee = add_actor(server, "mailer"), add_actor(server, "reader")
    bucket = f"t-{uuid.uuid4().hex[:12]}"
    owner.s3.create_bucket(Bucket=bucket)
    with owner.api(server, SharesClient) as shares:
        made: dict[str, Any] = shares.create_share(
            bucket,
            principal_type="user",
            principal=grantee.name,
            prefix="raw/",
            message="The raw data of run 7.",
            notify_email=address,
        )
    return made


def test_a_notification_is_mailed_through_the_configured_server(
    tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    env = {
        "LADING_SMTP__HOST": "127.0.0.1",
        "LADING_SMTP__PORT": str(port),
        "LADING_SMTP__STARTTLS": "false",
        "LADING_SMTP__USER": "lading",
        "LADING_SMTP__PASSWORD": "s3cret",
        "LADING_SMTP__SENDER": "store@example.org",
    }
    with serving(tmp_path / "data", env=env) as server:
        made = share_with_notice(server, "bob@example.org")
        with root_api(server, SharesClient) as admin:
            kept = list(admin.list_outbox())
        log = server.log()
    assert [(m["recipient"], m["status"], m["share_id"]) for m in kept] == [
        ("bob@example.org", "sent", made["id"])
    ], [m["error"] for m in kept]
    [(recipients, message)] = inbox.messages
    assert recipients == ["bob@example.org"]
    assert message["From"] == "store@example.org"
    assert "/raw/" in message["Subject"]
    assert "The raw data of run 7." in message.get_payload()
    assert "s3cret" not in log


def test_an_unreachable_mail_server_fails_the_message_not_the_share(tmp_path: Path) -> None:
    env = {
        "LADING_SMTP__HOST": "127.0.0.1",
        "LADING_SMTP__PORT": str(free_port()),  # nothing listens there
        "LADING_SMTP__STARTTLS": "false",
        "LADING_SMTP__TIMEOUT_SECONDS": "2",
    }
    with serving(tmp_path / "data", env=env) as server:
        made = share_with_notice(server, "carol@example.org")
        with root_api(server, SharesClient) as admin:
            kept = list(admin.list_outbox())
            assert admin.get_share(made["id"])["notify_email"] == "carol@example.org"
    assert [(m["status"], m["share_id"]) for m in kept] == [("failed", made["id"])]
    assert kept[0]["error"]
