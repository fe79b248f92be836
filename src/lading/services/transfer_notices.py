"""What a transfer task tells the world when it ends (or is paused): a webhook and e-mail.

Globus's vocabulary: `notify_on_succeeded`, `notify_on_failed` and `notify_on_inactive` say
which ends are mailed; the mail goes to the addresses of `notify_email`, or, when none are
given, to the e-mail address of the submitting user (if the user has one). A notice that
cannot be delivered never changes the task: it is recorded as one of its events.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import socket
import sys
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lading import errors
from lading.metadata.transfers import TaskRow, TransferStore
from lading.outbound import OutboundPolicy
from lading.services.mail import Mailer

log = logging.getLogger(__name__)

MAX_ADDRESSES = 10
_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?"
)
_DEFAULT_ON = {"SUCCEEDED": True, "FAILED": True, "INACTIVE": False}


def check_addresses(given: str | Sequence[str]) -> list[str]:
    """The addresses of `notify_email` (a list, or one string of comma-separated ones)."""
    items = given.split(",") if isinstance(given, str) else list(given)
    found = [str(a).strip() for a in items if str(a).strip()]
    if len(found) > MAX_ADDRESSES:
        raise errors.InvalidArgument(f"notify_email takes at most {MAX_ADDRESSES} addresses.")
    for address in found:
        if len(address) > 254 or not _ADDRESS.fullmatch(address):
            raise errors.InvalidArgument(f"notify_email: {address!r} is not an e-mail address.")
    return sorted(set(found), key=found.index)


def notify_settings(
    *,
    webhook: str,
    email: str | Sequence[str],
    on_succeeded: bool,
    on_failed: bool,
    on_inactive: bool,
) -> dict[str, Any]:
    """The `notify` column of a task, validated (InvalidArgument)."""
    if webhook and not webhook.startswith(("http://", "https://")):
        raise errors.InvalidArgument("notify_webhook must be an http:// or https:// URL.")
    addresses = check_addresses(email)
    if addresses and not (on_succeeded or on_failed or on_inactive):
        raise errors.InvalidArgument(
            "notify_email is given but notify_on_succeeded, notify_on_failed and "
            "notify_on_inactive are all false."
        )
    return {
        "webhook": webhook,
        "email": addresses,
        "on_succeeded": on_succeeded,
        "on_failed": on_failed,
        "on_inactive": on_inactive,
    }


def mails_on(notify: Mapping[str, Any], status: str) -> bool:
    """Whether a task with these notify settings is mailed when it reaches `status`."""
    key = f"on_{status.lower()}"
    return bool(notify.get(key, _DEFAULT_ON.get(status, False)))


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def message(task: Mapping[str, Any]) -> tuple[str, str]:
    """(subject, body) of the notice of a task (as `task_view` shows it)."""
    task_id, status = task["task_id"], task["status"]
    name = task["label"] or task_id
    subject = f"Transfer {status}: {name}"
    ended = task["completed_at"] or "now"
    verb = "was paused" if status == "INACTIVE" else f"ended {status}"
    lines = [
        f"Your transfer task {name!r} {verb} ({ended}).",
        "",
        f"Task id:      {task_id}",
        f"Label:        {task['label'] or '-'}",
        f"State:        {status}",
        f"From:         {task['source_endpoint']}",
        f"To:           {task['destination_endpoint']}",
        f"Files:        {task['files_copied']} copied of {task['files_planned']} planned, "
        f"{task['files_skipped']} skipped, {task['files_deleted']} deleted, "
        f"{task['files_failed']} failed",
        f"Bytes:        {task['bytes_copied']} copied ({_size(task['bytes_copied'])}), "
        f"{task['bytes_transferred']} sent",
        f"Retries:      {task['retries']}",
    ]
    if task.get("error"):
        lines.append(f"Error:        {task['error']}")
    lines += [
        "",
        "Every file's events:",
        f"  lading transfer events {task_id}",
        f"  (control API: GET /_/api/v1/transfers/{task_id}/events)",
    ]
    return subject, "\n".join(lines) + "\n"


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address the outbound policy checked, never to a fresh resolution.

    The name stays the request's Host header (http.client writes it from self.host).
    """

    outbound: OutboundPolicy

    def connect(self) -> None:
        sys.audit("http.client.connect", self, self.host, self.port)  # as http.client does
        # DestinationNotAllowed when the name now resolves to a denied address
        self.sock = self.outbound.connect(self.host, self.port, self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection, _PinnedHTTPConnection):
    """HTTPSConnection.connect wraps the socket its super().connect() opened (the pinned
    connect above, next in the MRO) in TLS with the name as SNI and certificate host."""


class _PinnedHandler(urllib.request.AbstractHTTPHandler):
    """Opens http:// and https:// URLs through the pinned connections."""

    def __init__(self, outbound: OutboundPolicy) -> None:
        super().__init__()
        self.outbound = outbound

    def _connection(self, kind: type[_PinnedHTTPConnection]) -> Any:
        def make(host: str, **kwargs: Any) -> _PinnedHTTPConnection:
            made = kind(host, **kwargs)
            made.outbound = self.outbound
            return made

        return make

    def http_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(self._connection(_PinnedHTTPConnection), req)

    def https_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(self._connection(_PinnedHTTPSConnection), req)

    http_request = https_request = urllib.request.AbstractHTTPHandler.do_request_


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a webhook's redirects only to hosts the outbound policy allows."""

    def __init__(self, outbound: OutboundPolicy) -> None:
        self.outbound = outbound

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        self.outbound.check_url(newurl)  # DestinationNotAllowed
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def post_webhook(outbound: OutboundPolicy, url: str, body: bytes, timeout: float = 10) -> int:
    """POST `body` (JSON) to `url`; the status of the answer (HTTPError for 4xx and 5xx).

    Every connection, a redirect's too, goes to an address the policy checked when it was
    made (DestinationNotAllowed otherwise). The opener has only the handlers of http(s): no
    proxy (one would resolve the name itself), no ftp:// or file:// a redirect could reach.
    """
    opener = urllib.request.OpenerDirector()
    for handler in (
        _PinnedHandler(outbound),
        _CheckedRedirects(outbound),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
        urllib.request.UnknownHandler(),
    ):
        opener.add_handler(handler)
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    outbound.check_url(url)  # as before any request; the connection checks again and pins
    with opener.open(request, timeout=timeout) as answer:
        return int(answer.status)


@dataclass
class Notifier:
    """Sends a task's notices and records each attempt as an event of the task."""

    store: TransferStore
    outbound: OutboundPolicy
    mailer: Mailer | None = None

    def task_changed(self, task: TaskRow, view: Mapping[str, Any]) -> None:
        """Notify about `task` having reached its current status (ended, or INACTIVE)."""
        if task.status != "INACTIVE":
            self._webhook(task, view)
        if self.mailer is not None and mails_on(task.notify, task.status):
            self._mail(task, view)

    def _webhook(self, task: TaskRow, view: Mapping[str, Any]) -> None:
        url = task.notify.get("webhook")
        if not url:
            return
        body = json.dumps({"event": "transfer.ended", "task": dict(view)}).encode()
        try:
            status = post_webhook(self.outbound, url, body)
            self.store.add_events(task.id, [("notified", None, {"webhook_status": status})])
        except errors.DestinationNotAllowed as exc:
            self.store.add_events(task.id, [("notify_failed", None, {"error": exc.message})])
        except OSError as exc:
            self.store.add_events(task.id, [("notify_failed", None, {"error": str(exc)})])

    def _recipients(self, task: TaskRow) -> list[str]:
        given = task.notify.get("email") or []
        if isinstance(given, str):  # tasks stored before e-mail notices took a list
            given = [given] if given else []
        if given:
            return list(given)
        user = self.store.meta.get_user_by_id(task.owner_id)
        return [user.email] if user.email else []

    def _mail(self, task: TaskRow, view: Mapping[str, Any]) -> None:
        assert self.mailer is not None
        recipients = self._recipients(task)
        if not recipients:
            return
        subject, body = message(view)
        statuses = {}
        for recipient in recipients:
            try:
                statuses[recipient] = self.mailer.send_blocking(recipient, subject, body).status
            except Exception as exc:  # the outbox itself failed; the task stays as it is
                log.exception("could not record the notice of task %s", task.id)
                statuses[recipient] = f"failed: {exc}"
        self.store.add_events(task.id, [("mailed", None, {"recipients": statuses})])
