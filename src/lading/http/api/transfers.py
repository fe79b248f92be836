"""Transfer endpoints and tasks: /endpoints... and /transfers... (Globus's vocabulary).

Routes are plain functions (FastAPI runs them in its thread pool: the service reads and
writes the metadata database). They only translate between JSON and the service.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from lading.http.api.deps import Caller, Svc
from lading.services.transfers import Submission

router = APIRouter(tags=["transfers"])


def _owner(caller: Caller) -> int:
    assert caller.user is not None  # `caller` refuses anonymous requests
    return caller.user.id


# --- models ----------------------------------------------------------------------------------


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="unique among the caller's endpoints")
    kind: Literal["s3", "posix"]
    config: dict[str, str] = Field(
        default_factory=dict,
        description="s3: url, bucket, region, addressing_style (path|virtual); "
        "posix: root (a name the administrator exported)",
    )
    credentials: dict[str, str] | None = Field(
        None, description="s3: access_key and secret_key; stored encrypted, never returned"
    )


class EndpointOut(BaseModel):
    name: str
    kind: str
    config: dict[str, Any]
    has_credentials: bool
    created_at: str


class EndpointPage(BaseModel):
    items: list[EndpointOut]
    next: str | None = None


class FileOut(BaseModel):
    path: str
    size: int
    mtime: float


class FilePage(BaseModel):
    items: list[FileOut]
    next: str | None = None


class PathIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str


class RenameIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    old_path: str
    new_path: str


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source_path: str
    destination_path: str
    recursive: bool = False


class FilterRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["include", "exclude"]
    pattern: str = Field(min_length=1)


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source_endpoint: str
    destination_endpoint: str
    items: list[ItemIn] = Field(min_length=1)
    label: str = Field("", max_length=255)
    submission_id: str = Field(
        "", max_length=128, description="a resubmission with the same id returns the same task"
    )
    sync_level: Literal["exists", "size", "mtime", "checksum"] | None = None
    verify_checksum: bool = True
    preserve_timestamp: bool = False
    delete_destination_extra: bool = False
    skip_source_errors: bool = False
    fail_on_quota_errors: bool = False
    deadline: dt.datetime | None = None
    filter_rules: list[FilterRuleIn] = Field(default_factory=list)
    notify_webhook: str = Field("", description="POSTed the task as JSON when it ends")
    notify_email: str | list[str] = Field(
        "",
        description="addresses mailed when the task ends (a list, or comma-separated); "
        "none: the submitting user's e-mail address, if the user has one",
    )
    notify_on_succeeded: bool = Field(True, description="mail when the task SUCCEEDED")
    notify_on_failed: bool = Field(True, description="mail when the task FAILED")
    notify_on_inactive: bool = Field(False, description="mail when the task is paused")


class TransferOut(BaseModel):
    task_id: str
    label: str
    submission_id: str
    status: Literal["ACTIVE", "INACTIVE", "SUCCEEDED", "FAILED"]
    phase: str
    items: list[dict[str, Any]]
    source_endpoint: str
    destination_endpoint: str
    sync_level: str | None
    verify_checksum: bool
    preserve_timestamp: bool
    delete_destination_extra: bool
    skip_source_errors: bool
    fail_on_quota_errors: bool
    filter_rules: list[dict[str, str]]
    deadline: str | None
    notify: dict[str, Any]
    files_planned: int
    bytes_planned: int
    files_copied: int
    bytes_copied: int
    bytes_transferred: int
    files_skipped: int
    files_deleted: int
    files_failed: int
    retries: int
    bytes_per_second: float
    error: str | None
    created_at: str
    completed_at: str | None


class TransferPage(BaseModel):
    items: list[TransferOut]
    next: str | None = None


class EventOut(BaseModel):
    id: int
    at: int = Field(description="microseconds since the epoch")
    kind: str
    path: str | None
    details: dict[str, Any]


class EventPage(BaseModel):
    items: list[EventOut]
    next: str | None = None


# --- endpoints -------------------------------------------------------------------------------


@router.post("/endpoints", response_model=EndpointOut, status_code=201, summary="Add an endpoint")
def create_endpoint(body: EndpointIn, caller: Caller, svc: Svc) -> dict[str, Any]:
    return svc.transfers.create_endpoint(
        _owner(caller), body.name, body.kind, body.config, body.credentials
    )


@router.get("/endpoints", response_model=EndpointPage, summary="The caller's endpoints")
def list_endpoints(caller: Caller, svc: Svc) -> dict[str, Any]:
    return {"items": svc.transfers.list_endpoints(_owner(caller)), "next": None}


@router.get("/endpoints/{name}", response_model=EndpointOut, summary="One endpoint")
def show_endpoint(name: str, caller: Caller, svc: Svc) -> dict[str, Any]:
    return svc.transfers.get_endpoint(_owner(caller), name)


@router.delete("/endpoints/{name}", status_code=204, summary="Remove an endpoint")
def delete_endpoint(name: str, caller: Caller, svc: Svc) -> Response:
    svc.transfers.delete_endpoint(_owner(caller), name)
    return Response(status_code=204)


@router.get("/endpoints/{name}/ls", response_model=FilePage, summary="Files under a path")
def ls_endpoint(
    name: str,
    caller: Caller,
    svc: Svc,
    path: str = "",
    limit: int = Query(1000, ge=1, le=10_000),
) -> dict[str, Any]:
    return {"items": svc.transfers.ls(_owner(caller), name, path, limit), "next": None}


@router.post("/endpoints/{name}/mkdir", status_code=204, summary="Create a directory")
def mkdir_endpoint(name: str, body: PathIn, caller: Caller, svc: Svc) -> Response:
    svc.transfers.mkdir(_owner(caller), name, body.path)
    return Response(status_code=204)


@router.post("/endpoints/{name}/rename", status_code=204, summary="Move a file")
def rename_on_endpoint(name: str, body: RenameIn, caller: Caller, svc: Svc) -> Response:
    svc.transfers.rename(_owner(caller), name, body.old_path, body.new_path)
    return Response(status_code=204)


# --- transfers -------------------------------------------------------------------------------


def _submission(body: TransferIn) -> Submission:
    return Submission(
        source=body.source_endpoint,
        destination=body.destination_endpoint,
        items=[i.model_dump() for i in body.items],
        label=body.label,
        submission_id=body.submission_id,
        sync_level=body.sync_level,
        verify_checksum=body.verify_checksum,
        preserve_timestamp=body.preserve_timestamp,
        delete_destination_extra=body.delete_destination_extra,
        skip_source_errors=body.skip_source_errors,
        fail_on_quota_errors=body.fail_on_quota_errors,
        deadline=body.deadline,
        filter_rules=[r.model_dump() for r in body.filter_rules],
        notify_webhook=body.notify_webhook,
        notify_email=body.notify_email,
        notify_on_succeeded=body.notify_on_succeeded,
        notify_on_failed=body.notify_on_failed,
        notify_on_inactive=body.notify_on_inactive,
    )


@router.post(
    "/transfers",
    response_model=TransferOut,
    status_code=201,
    summary="Submit a transfer (200 with the existing task for a known submission_id)",
)
def submit_transfer(
    body: TransferIn, caller: Caller, svc: Svc, response: Response
) -> dict[str, Any]:
    task, created = svc.transfers.submit(_owner(caller), _submission(body))
    if not created:
        response.status_code = 200
    return task


@router.get("/transfers", response_model=TransferPage, summary="The caller's transfers")
def list_transfers(
    caller: Caller,
    svc: Svc,
    status: Literal["ACTIVE", "INACTIVE", "SUCCEEDED", "FAILED"] | None = None,
    limit: int = Query(100, ge=1, le=1000),
    cursor: str = "",
) -> dict[str, Any]:
    items = svc.transfers.list_tasks(_owner(caller), status=status, limit=limit, after=cursor)
    return {"items": items, "next": items[-1]["task_id"] if len(items) == limit else None}


@router.get("/transfers/{task_id}", response_model=TransferOut, summary="One transfer")
def show_transfer(task_id: str, caller: Caller, svc: Svc) -> dict[str, Any]:
    return svc.transfers.get_task(_owner(caller), task_id)


@router.get("/transfers/{task_id}/events", response_model=EventPage, summary="A transfer's events")
def transfer_events(
    task_id: str,
    caller: Caller,
    svc: Svc,
    cursor: int = Query(0, ge=0),
    limit: int = Query(1000, ge=1, le=10_000),
) -> dict[str, Any]:
    items = svc.transfers.events(_owner(caller), task_id, after=cursor, limit=limit)
    return {"items": items, "next": str(items[-1]["id"]) if len(items) == limit else None}


@router.get(
    "/transfers/{task_id}/wait",
    response_model=TransferOut,
    summary="Long-poll: the transfer once it ends, or as it is after `timeout` seconds",
)
def wait_transfer(
    task_id: str, caller: Caller, svc: Svc, timeout: float = Query(30.0, ge=0, le=300)
) -> dict[str, Any]:
    return svc.transfers.wait(_owner(caller), task_id, timeout)


@router.post("/transfers/{task_id}/cancel", response_model=TransferOut, summary="Cancel")
def cancel_transfer(task_id: str, caller: Caller, svc: Svc) -> dict[str, Any]:
    return svc.transfers.cancel(_owner(caller), task_id)


@router.post("/transfers/{task_id}/pause", response_model=TransferOut, summary="Pause")
def pause_transfer(task_id: str, caller: Caller, svc: Svc) -> dict[str, Any]:
    return svc.transfers.pause(_owner(caller), task_id)


@router.post("/transfers/{task_id}/resume", response_model=TransferOut, summary="Resume")
def resume_transfer(task_id: str, caller: Caller, svc: Svc) -> dict[str, Any]:
    return svc.transfers.resume(_owner(caller), task_id)


@router.delete("/transfers/{task_id}", status_code=204, summary="Forget an ended transfer")
def delete_transfer(task_id: str, caller: Caller, svc: Svc) -> Response:
    svc.transfers.delete_task(_owner(caller), task_id)
    return Response(status_code=204)


# --- schedules -------------------------------------------------------------------------------


class ScheduleIn(TransferIn):
    every_minutes: int | None = Field(None, ge=1, le=525_600)
    cron: str | None = Field(None, max_length=128, description="five fields, UTC")


class ScheduleOut(BaseModel):
    schedule_id: str
    label: str
    every_minutes: int | None
    cron: str | None
    next_run: str
    items: list[dict[str, Any]]
    source_endpoint: str
    destination_endpoint: str
    sync_level: str | None
    last_task_id: str | None
    runs: int
    skipped: int
    created_at: str


class SchedulePage(BaseModel):
    items: list[ScheduleOut]
    next: str | None = None


@router.post(
    "/schedules",
    response_model=ScheduleOut,
    status_code=201,
    summary="A recurring sync (every N minutes or on a cron expression)",
)
def create_schedule(body: ScheduleIn, caller: Caller, svc: Svc) -> dict[str, Any]:
    return svc.transfers.create_schedule(
        _owner(caller), _submission(body), every_minutes=body.every_minutes, cron=body.cron
    )


@router.get("/schedules", response_model=SchedulePage, summary="The caller's schedules")
def list_schedules(caller: Caller, svc: Svc) -> dict[str, Any]:
    return {"items": svc.transfers.list_schedules(_owner(caller)), "next": None}


@router.get("/schedules/{schedule_id}", response_model=ScheduleOut, summary="One schedule")
def show_schedule(schedule_id: str, caller: Caller, svc: Svc) -> dict[str, Any]:
    return svc.transfers.get_schedule(_owner(caller), schedule_id)


@router.delete("/schedules/{schedule_id}", status_code=204, summary="Stop a schedule")
def delete_schedule(schedule_id: str, caller: Caller, svc: Svc) -> Response:
    svc.transfers.delete_schedule(_owner(caller), schedule_id)
    return Response(status_code=204)
