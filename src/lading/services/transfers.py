"""Managed transfers: endpoints, task submission and control, in Globus's vocabulary.

A task is a record in the metadata database; workers (`services.transfer_worker`, in the
server processes and in `lading worker`) plan it and copy its files. The submitting client
may go away. Endpoint credentials are stored sealed: a random data key encrypts them
(AES-256-GCM) and the server's keyring wraps that key, as for SSE-S3 objects.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from croniter import croniter  # type: ignore[import-untyped]
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from lading import errors
from lading.encryption import Keyring
from lading.metadata.store import now_us
from lading.metadata.transfers import (
    TERMINAL,
    EndpointRow,
    ScheduleRow,
    ScheduleStore,
    TaskRow,
    TransferStore,
)
from lading.outbound import OutboundPolicy
from lading.services.mail import Mailer
from lading.services.transfer_notices import Notifier, notify_settings
from lading.settings import TransferSettings
from lading.transfer.drivers import registry
from lading.transfer.drivers.base import EndpointDriver, check_path
from lading.transfer.errors import EndpointNotAllowed, InvalidPath, TransferFailure
from lading.transfer.plan import FilterRule, SyncLevel

_SECRET_AAD = b"lading/transfer-endpoint/credentials/v1\x00"
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
STATES = ("ACTIVE", "INACTIVE", "SUCCEEDED", "FAILED")
_KEPT_DRIVERS = 32


def _bad(message: str) -> errors.InvalidArgument:
    return errors.InvalidArgument(message)


def seal(keyring: Keyring, secret: Mapping[str, str]) -> str:
    """Credentials encrypted under a fresh data key wrapped by the keyring."""
    data_key = AESGCM.generate_key(bit_length=256)
    key_id, wrapped = keyring.wrap_data_key(data_key)
    nonce = os.urandom(12)
    sealed = AESGCM(data_key).encrypt(nonce, json.dumps(dict(secret)).encode(), _SECRET_AAD)
    b64 = base64.b64encode
    return json.dumps(
        {"key_id": key_id, "wrapped": b64(wrapped).decode(), "sealed": b64(nonce + sealed).decode()}
    )


def unseal(keyring: Keyring, text: str | None) -> dict[str, str]:
    if not text:
        return {}
    stored = json.loads(text)
    data_key = keyring.unwrap_data_key(stored["key_id"], base64.b64decode(stored["wrapped"]))
    blob = base64.b64decode(stored["sealed"])
    try:
        plain = AESGCM(data_key).decrypt(blob[:12], blob[12:], _SECRET_AAD)
    except InvalidTag:
        raise errors.LadingError("An endpoint's stored credentials failed their check.") from None
    found: dict[str, str] = json.loads(plain)
    return found


def check_s3_endpoint(outbound: OutboundPolicy, config: Mapping[str, Any]) -> None:
    """DestinationNotAllowed when an S3 endpoint's URL (or its virtual-host name) is denied."""
    url = str(config.get("url", ""))
    outbound.check_url(url)
    host = urlsplit(url).hostname or ""
    if config.get("addressing_style") == "virtual" and config.get("bucket") and host:
        outbound.check_host(f"{config['bucket']}.{host}")  # where botocore connects


def endpoint_view(row: EndpointRow) -> dict[str, Any]:
    """An endpoint as clients see it: never its credentials."""
    return {
        "name": row.name,
        "kind": row.kind,
        "config": row.config,
        "has_credentials": bool(row.secret),
        "created_at": _iso(row.created_at),
    }


def task_view(row: TaskRow, *, now: float | None = None) -> dict[str, Any]:
    counters = dict(row.counters)
    end = row.completed_at or int((now or time.time()) * 1_000_000)
    seconds = max(0.0, (end - row.created_at) / 1e6)
    return {
        "task_id": row.id,
        "label": row.label,
        "submission_id": row.submission_id,
        "status": row.status,
        "phase": row.phase,
        "items": row.items,
        **row.options,
        "deadline": _iso(row.deadline) if row.deadline else None,
        "notify": {k: v for k, v in row.notify.items() if k != "webhook_secret"},
        **counters,
        "bytes_per_second": round(counters["bytes_transferred"] / seconds, 1) if seconds else 0,
        "error": row.error,
        "created_at": _iso(row.created_at),
        "completed_at": _iso(row.completed_at) if row.completed_at else None,
    }


def _iso(us: int) -> str:
    return dt.datetime.fromtimestamp(us / 1e6, dt.UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Submission:
    """What a client asks for; validated by `TransferService.submit`."""

    source: str
    destination: str
    items: Sequence[Mapping[str, Any]]
    label: str = ""
    submission_id: str = ""
    sync_level: str | None = None
    verify_checksum: bool = True
    preserve_timestamp: bool = False
    delete_destination_extra: bool = False
    skip_source_errors: bool = False
    fail_on_quota_errors: bool = False
    deadline: dt.datetime | None = None
    filter_rules: Sequence[Mapping[str, str]] = ()
    notify_webhook: str = ""
    notify_email: str | Sequence[str] = ""  # addresses; none: the submitting user's e-mail
    notify_on_succeeded: bool = True
    notify_on_failed: bool = True
    notify_on_inactive: bool = False


class TransferService:
    """Endpoints and tasks of the users; the workers do the copying."""

    def __init__(
        self,
        store: TransferStore,
        keyring: Keyring,
        settings: TransferSettings,
        *,
        outbound: OutboundPolicy,
        sleep: Callable[[float], None] = time.sleep,
        mailer: Mailer | None = None,
    ) -> None:
        self.store = store
        self.outbound = outbound
        self.notifier = Notifier(store, outbound, mailer)
        self._drivers: OrderedDict[tuple[int, str, str, str], EndpointDriver] = OrderedDict()
        self._drivers_lock = threading.Lock()
        self.schedules = ScheduleStore(store.meta)
        self.keyring = keyring
        self.settings = settings
        self.sleep = sleep

    # --- endpoints -------------------------------------------------------------------------

    def create_endpoint(
        self,
        owner_id: int,
        name: str,
        kind: str,
        config: Mapping[str, Any],
        credentials: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Register an endpoint; InvalidArgument for a bad name or configuration."""
        if not name or len(name) > 128 or not set(name) <= _NAME_CHARS:
            raise _bad("An endpoint name is 1-128 letters, digits, '.', '_' or '-'.")
        allowed = {"url", "region", "addressing_style", "bucket", "root"}
        unknown = set(config) - allowed
        if unknown:
            raise _bad(f"Unknown endpoint settings: {', '.join(sorted(unknown))}.")
        try:
            registry.check_config(kind, config, self.settings.posix_roots)
        except ValueError as exc:
            raise _bad(f"{exc}.") from exc
        if kind == "s3":
            check_s3_endpoint(self.outbound, config)  # DestinationNotAllowed
        secret = None
        if credentials:
            if kind != "s3" or set(credentials) != {"access_key", "secret_key"}:
                raise _bad("Credentials are access_key and secret_key, for s3 endpoints.")
            secret = seal(self.keyring, credentials)
        row = self.store.create_endpoint(owner_id, name, kind, dict(config), secret)
        return endpoint_view(row)

    def list_endpoints(self, owner_id: int) -> list[dict[str, Any]]:
        return [endpoint_view(r) for r in self.store.list_endpoints(owner_id)]

    def get_endpoint(self, owner_id: int, name: str) -> dict[str, Any]:
        return endpoint_view(self.store.get_endpoint(owner_id, name))

    def delete_endpoint(self, owner_id: int, name: str) -> None:
        self.store.delete_endpoint(owner_id, name)

    def driver(self, row: EndpointRow) -> EndpointDriver:
        """The driver of a stored endpoint, with its credentials unsealed.

        Drivers are kept for reuse (an S3 client is costly to make, and the relay routes ask
        for one per request), keyed by everything they are built from. An S3 endpoint's host
        is checked against the outbound policy every time (EndpointNotAllowed), since what
        it resolves to may have changed since it was registered.
        """
        if row.kind == "s3":
            try:
                check_s3_endpoint(self.outbound, row.config)
            except errors.DestinationNotAllowed as exc:
                raise EndpointNotAllowed(exc.message) from exc
        key = (row.id, row.kind, json.dumps(row.config, sort_keys=True), row.secret or "")
        with self._drivers_lock:
            found = self._drivers.get(key)
            if found is not None:
                self._drivers.move_to_end(key)
                return found
        ts = self.settings
        made = registry.build(
            row.kind,
            row.config,
            unseal(self.keyring, row.secret),
            posix_roots=ts.posix_roots,
            connections=ts.files + ts.parts + 2,
        )
        with self._drivers_lock:
            self._drivers[key] = made
            while len(self._drivers) > _KEPT_DRIVERS:
                self._drivers.popitem(last=False)
        return made

    def _on_endpoint(self, owner_id: int, name: str, op: Callable[[EndpointDriver], Any]) -> Any:
        try:
            return op(self.driver(self.store.get_endpoint(owner_id, name)))
        except InvalidPath as exc:
            raise _bad(exc.message) from exc
        except TransferFailure as exc:
            raise errors.InvalidRequest(f"Endpoint {name!r}: {exc.message}") from exc

    def ls(
        self, owner_id: int, name: str, path: str = "", limit: int = 1000
    ) -> list[dict[str, Any]]:
        """Files under `path` (recursively, at most `limit`)."""

        def op(driver: EndpointDriver) -> list[dict[str, Any]]:
            found = []
            for entry in driver.list(path):
                found.append({"path": entry.path, "size": entry.size, "mtime": entry.mtime})
                if len(found) >= limit:
                    break
            return found

        listed: list[dict[str, Any]] = self._on_endpoint(owner_id, name, op)
        return listed

    def mkdir(self, owner_id: int, name: str, path: str) -> None:
        self._on_endpoint(owner_id, name, lambda d: d.mkdir(path))

    def rename(self, owner_id: int, name: str, src: str, dst: str) -> None:
        self._on_endpoint(owner_id, name, lambda d: d.rename(src, dst))

    # --- tasks -----------------------------------------------------------------------------

    def submit(self, owner_id: int, sub: Submission) -> tuple[dict[str, Any], bool]:
        """Create a task (or return the one of the same submission_id); (task, created)."""
        return self._create(self._task_values(owner_id, sub))

    def _create(self, values: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        row, created = self.store.create_task(values)
        if created:
            self.store.add_events(row.id, [("submitted", None, {"items": len(row.items)})])
        return task_view(row), created

    def _task_values(self, owner_id: int, sub: Submission) -> dict[str, Any]:
        """The row of a task for a submission, validated (InvalidArgument, NotFound)."""
        source = self.store.get_endpoint(owner_id, sub.source)
        destination = self.store.get_endpoint(owner_id, sub.destination)
        if not sub.items:
            raise _bad("A transfer needs at least one item.")
        if len(sub.items) > 10_000:
            raise _bad("A transfer takes at most 10,000 items.")
        items = []
        for item in sub.items:
            recursive = bool(item.get("recursive", False))
            try:
                items.append(
                    {
                        "source_path": check_path(str(item["source_path"]), allow_root=recursive),
                        "destination_path": check_path(
                            str(item["destination_path"]), allow_root=recursive
                        ),
                        "recursive": recursive,
                    }
                )
            except KeyError as exc:
                raise _bad("Every item needs source_path and destination_path.") from exc
            except InvalidPath as exc:
                raise _bad(exc.message) from exc
        if sub.sync_level is not None and sub.sync_level not in set(SyncLevel):
            raise _bad("sync_level is one of exists, size, mtime, checksum.")
        rules = []
        for rule in sub.filter_rules:
            try:
                parsed = FilterRule.parse(str(rule.get("action", "")), str(rule.get("pattern", "")))
            except ValueError as exc:
                raise _bad(f"Filter rule: {exc}.") from exc
            rules.append({"action": parsed.action, "pattern": parsed.pattern})
        notify = notify_settings(
            webhook=sub.notify_webhook,
            email=sub.notify_email,
            on_succeeded=sub.notify_on_succeeded,
            on_failed=sub.notify_on_failed,
            on_inactive=sub.notify_on_inactive,
        )
        if notify["webhook"]:
            self.outbound.check_url(notify["webhook"])  # DestinationNotAllowed
        if len(sub.submission_id) > 128 or len(sub.label) > 255:
            raise _bad("submission_id is at most 128 characters, label at most 255.")
        deadline = None
        if sub.deadline is not None:
            moment = sub.deadline if sub.deadline.tzinfo else sub.deadline.replace(tzinfo=dt.UTC)
            deadline = int(moment.timestamp() * 1_000_000)
        task_id = str(uuid.uuid4())
        values = {
            "id": task_id,
            "owner_id": owner_id,
            "submission_id": sub.submission_id or task_id,
            "label": sub.label,
            "source_id": source.id,
            "destination_id": destination.id,
            "items": items,
            "options": {
                "source_endpoint": source.name,
                "destination_endpoint": destination.name,
                "sync_level": sub.sync_level,
                "verify_checksum": sub.verify_checksum,
                "preserve_timestamp": sub.preserve_timestamp,
                "delete_destination_extra": sub.delete_destination_extra,
                "skip_source_errors": sub.skip_source_errors,
                "fail_on_quota_errors": sub.fail_on_quota_errors,
                "filter_rules": rules,
            },
            "notify": notify,
            "status": "ACTIVE",
            "phase": "plan",
            "deadline": deadline,
            "created_at": now_us(),
        }
        return values

    def _owned(self, owner_id: int, task_id: str) -> TaskRow:
        row = self.store.get_task(task_id)
        if row.owner_id != owner_id:
            raise errors.NotFound(f"No transfer task {task_id!r}.")
        return row

    def get_task(self, owner_id: int, task_id: str) -> dict[str, Any]:
        return task_view(self._owned(owner_id, task_id))

    def list_tasks(
        self, owner_id: int, *, status: str | None = None, limit: int = 100, after: str = ""
    ) -> list[dict[str, Any]]:
        if status is not None and status not in STATES:
            raise _bad(f"status is one of {', '.join(STATES)}.")
        limit = max(1, min(limit, 1000))
        rows = self.store.list_tasks(owner_id, status=status, limit=limit, after=after)
        return [task_view(r) for r in rows]

    def events(
        self, owner_id: int, task_id: str, *, after: int = 0, limit: int = 1000
    ) -> list[dict[str, Any]]:
        self._owned(owner_id, task_id)
        return self.store.list_events(task_id, after=after, limit=max(1, min(limit, 10_000)))

    def cancel(self, owner_id: int, task_id: str) -> dict[str, Any]:
        """End an unfinished task as FAILED; Conflict when it has already ended."""
        self._owned(owner_id, task_id)
        if not self.store.set_status(
            task_id, "FAILED", only_from=("ACTIVE", "INACTIVE"), error="cancelled by its owner"
        ):
            raise errors.Conflict("The task has already ended.")
        self.store.add_events(task_id, [("cancelled", None, {})])
        self.notify(task_id)
        return self.get_task(owner_id, task_id)

    def pause(self, owner_id: int, task_id: str) -> dict[str, Any]:
        self._owned(owner_id, task_id)
        if not self.store.set_status(task_id, "INACTIVE", only_from=("ACTIVE",)):
            raise errors.Conflict("Only an ACTIVE task can be paused.")
        self.store.add_events(task_id, [("paused", None, {})])
        self.notify(task_id)
        return self.get_task(owner_id, task_id)

    def resume(self, owner_id: int, task_id: str) -> dict[str, Any]:
        self._owned(owner_id, task_id)
        if not self.store.set_status(task_id, "ACTIVE", only_from=("INACTIVE",)):
            raise errors.Conflict("Only an INACTIVE (paused) task can be resumed.")
        self.store.add_events(task_id, [("resumed", None, {})])
        return self.get_task(owner_id, task_id)

    def notify(self, task_id: str) -> None:
        """Send the notices of a task that has just ended or been paused."""
        row = self.store.get_task(task_id)
        self.notifier.task_changed(row, task_view(row))

    def fail(self, task_id: str, error: str) -> bool:
        """End an ACTIVE task as FAILED with `error` (and notify); whether it was ACTIVE."""
        if not self.store.set_status(task_id, "FAILED", only_from=("ACTIVE",), error=error):
            return False
        self.store.add_events(task_id, [("failed", None, {"error": error})])
        self.notify(task_id)
        return True

    def delete_task(self, owner_id: int, task_id: str) -> None:
        """Forget an ended task; Conflict while it is unfinished (cancel it first)."""
        row = self._owned(owner_id, task_id)
        if row.status not in TERMINAL:
            raise errors.Conflict("Cancel the task before deleting it.")
        self.store.delete_task(task_id)

    def wait(
        self, owner_id: int, task_id: str, timeout: float, poll: float = 0.5
    ) -> dict[str, Any]:
        """The task once it has ended, or as it is after `timeout` seconds."""
        end = time.monotonic() + max(0.0, min(timeout, 300.0))
        while True:
            row = self._owned(owner_id, task_id)
            if row.status in TERMINAL or time.monotonic() >= end:
                return task_view(row)
            self.sleep(min(poll, max(0.0, end - time.monotonic())))

    # --- schedules -------------------------------------------------------------------------

    def create_schedule(
        self,
        owner_id: int,
        sub: Submission,
        *,
        every_minutes: int | None = None,
        cron: str | None = None,
    ) -> dict[str, Any]:
        """A recurring sync: every N minutes or on a cron expression (UTC), first run now.

        A run is skipped while the task of the previous one has not ended.
        """
        if (every_minutes is None) == (cron is None):
            raise _bad("Give either every_minutes or cron.")
        if every_minutes is not None and not 1 <= every_minutes <= 525_600:
            raise _bad("every_minutes is between 1 and 525600.")
        if cron is not None and (len(cron) > 128 or not croniter.is_valid(cron)):
            raise _bad(f"{cron!r} is not a cron expression (e.g. '0 2 * * *').")
        if sub.deadline is not None:
            raise _bad("A recurring transfer has no deadline.")
        if sub.submission_id:
            raise _bad("Each run of a schedule has its own submission_id.")
        if sub.sync_level is None:
            sub = replace(sub, sync_level="mtime")  # a schedule runs a sync
        template = self._task_values(owner_id, sub)
        now = now_us()
        row = self.schedules.create(
            {
                "id": str(uuid.uuid4()),
                "owner_id": owner_id,
                "label": sub.label,
                "template": {k: template[k] for k in _TEMPLATE},
                "every_seconds": None if every_minutes is None else every_minutes * 60,
                "cron": cron,
                "next_run": now,
                "last_task_id": None,
                "created_at": now,
            }
        )
        return schedule_view(row)

    def list_schedules(self, owner_id: int) -> list[dict[str, Any]]:
        return [schedule_view(r) for r in self.schedules.list_for(owner_id)]

    def _owned_schedule(self, owner_id: int, schedule_id: str) -> ScheduleRow:
        row = self.schedules.get(schedule_id)
        if row.owner_id != owner_id:
            raise errors.NotFound(f"No transfer schedule {schedule_id!r}.")
        return row

    def get_schedule(self, owner_id: int, schedule_id: str) -> dict[str, Any]:
        return schedule_view(self._owned_schedule(owner_id, schedule_id))

    def delete_schedule(self, owner_id: int, schedule_id: str) -> None:
        self._owned_schedule(owner_id, schedule_id)
        self.schedules.delete(schedule_id)

    def run_due_schedules(self, now: int | None = None) -> int:
        """Submit the task of every due schedule (once, whichever worker asks); runs started."""
        now = now_us() if now is None else now
        started = 0
        for row in self.schedules.due(now):
            if not self.schedules.advance(row.id, row.next_run, next_run_after(row, now)):
                continue  # another worker took this run
            if row.last_task_id is not None:
                try:
                    previous = self.store.get_task(row.last_task_id)
                except errors.NotFound:
                    previous = None
                if previous is not None and previous.status not in TERMINAL:
                    self.schedules.ran(row.id, None)  # still going: skip this run
                    continue
            values = {
                **row.template,
                "id": str(uuid.uuid4()),
                "owner_id": row.owner_id,
                "submission_id": f"schedule:{row.id}:{row.next_run}",
                "status": "ACTIVE",
                "phase": "plan",
                "deadline": None,
                "created_at": now_us(),
            }
            task, _ = self._create(values)
            self.schedules.ran(row.id, task["task_id"])
            started += 1
        return started


_TEMPLATE = ("label", "source_id", "destination_id", "items", "options", "notify")


def next_run_after(row: ScheduleRow, now: int) -> int:
    """The first run time of a schedule after `now` (microseconds)."""
    if row.every_seconds:
        step = row.every_seconds * 1_000_000
        return row.next_run + step * max(1, -(-(now - row.next_run + 1) // step))
    assert row.cron is not None
    base = dt.datetime.fromtimestamp(now / 1e6, dt.UTC)
    following: dt.datetime = croniter(row.cron, base).get_next(dt.datetime)
    return int(following.timestamp() * 1_000_000)


def schedule_view(row: ScheduleRow) -> dict[str, Any]:
    t = row.template
    return {
        "schedule_id": row.id,
        "label": row.label,
        "every_minutes": row.every_seconds // 60 if row.every_seconds else None,
        "cron": row.cron,
        "next_run": _iso(row.next_run),
        "items": t["items"],
        **t["options"],
        "last_task_id": row.last_task_id,
        "runs": row.runs,
        "skipped": row.skipped,
        "created_at": _iso(row.created_at),
    }
