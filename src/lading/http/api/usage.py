"""Usage reports per project: byte-days stored, requests and bytes downloaded."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from lading import errors
from lading.http.api.deps import Caller, Ctx, Svc, user_of

router = APIRouter(prefix="/usage", tags=["usage"])


class UsageOut(BaseModel):
    project: str
    from_: str = Field(alias="from", description="start of the period (ISO 8601, UTC)")
    to: str = Field(description="end of the period, exclusive (ISO 8601, UTC)")
    byte_days: float = Field(description="bytes stored integrated over the period, in days")
    average_bytes: float
    max_bytes: int
    bytes_at_end: int
    objects_at_end: int
    requests: int
    bytes_downloaded: int


class UsagePage(BaseModel):
    items: list[UsageOut]
    next: str | None = None


def moment(value: str, *, end: bool) -> int:
    """Epoch microseconds of a date (an end date counts whole) or an ISO 8601 moment."""
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            if end:
                day += dt.timedelta(days=1)
            at = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        else:
            at = dt.datetime.fromisoformat(value)
            if at.tzinfo is None:
                at = at.replace(tzinfo=dt.UTC)
    except (ValueError, OverflowError) as exc:
        raise errors.InvalidArgument(
            f"{value!r} is not a date (2026-01-31) or an ISO 8601 moment"
        ) from exc
    return int(at.timestamp() * 1_000_000)


@router.get("", response_model=UsagePage, summary="Usage report")
async def usage_report(
    caller: Caller,
    svc: Svc,
    ctx: Ctx,
    start: str = Query(alias="from", description="first day (2026-01-01) or ISO 8601 moment"),
    end: str = Query(alias="to", description="last day, counted whole, or ISO 8601 moment"),
    project: Annotated[
        list[str] | None, Query(description="projects; none: all the caller may see")
    ] = None,
) -> UsagePage:
    """Each project's usage over the period; members see their projects, administrators all."""
    lines = await svc.usage.report(
        user_of(caller),
        project or [],
        moment(start, end=False),
        moment(end, end=True),
        int(ctx.clock().timestamp() * 1_000_000),
    )
    return UsagePage(items=[UsageOut.model_validate(line.as_dict()) for line in lines])
