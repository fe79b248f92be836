"""Usage accounting per project: storage sampled over time, requests and bytes downloaded.

Bytes and objects stored are kept exact by the metadata change hook; each usage pass (run
with the lifecycle pass) samples them, and a report integrates the samples into byte-days.
Requests and downloaded bytes are counted in memory by each server process and flushed to
the database every `usage_flush_seconds` and at shutdown: a crash loses at most that much.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from lading import errors
from lading.concurrency import run_blocking
from lading.metadata.identity import Directory, Project, Sample, iso
from lading.metadata.models import User
from lading.services.mail import Mailer

log = logging.getLogger(__name__)
DAY_US = 86_400 * 1_000_000
# the outbox recipient of a notice when no administrator has an e-mail address
ADMINISTRATORS = "administrators"


class UsageMeter:
    """Requests and downloaded bytes per project since the last flush (one process)."""

    def __init__(self) -> None:
        self._counts: dict[int, list[int]] = {}

    def count(self, project_id: int, bytes_out: int) -> None:
        found = self._counts.get(project_id)
        if found is None:
            self._counts[project_id] = [1, bytes_out]
        else:
            found[0] += 1
            found[1] += bytes_out

    def drain(self) -> list[tuple[int, int, int]]:
        """The counts so far, as (project id, requests, bytes), and start afresh."""
        counts, self._counts = self._counts, {}
        return [(p, r, b) for p, (r, b) in counts.items()]


@dataclass(frozen=True, slots=True)
class UsageLine:
    """One project's usage over [start, end)."""

    project: str
    start: int
    end: int
    byte_days: float
    average_bytes: float
    max_bytes: int
    bytes_at_end: int
    objects_at_end: int
    requests: int
    bytes_downloaded: int

    def as_dict(self) -> dict[str, object]:
        return {
            "project": self.project,
            "from": iso(self.start),
            "to": iso(self.end),
            "byte_days": round(self.byte_days, 3),
            "average_bytes": round(self.average_bytes, 3),
            "max_bytes": self.max_bytes,
            "bytes_at_end": self.bytes_at_end,
            "objects_at_end": self.objects_at_end,
            "requests": self.requests,
            "bytes_downloaded": self.bytes_downloaded,
        }


def integrate(samples: list[Sample], start: int, end: int) -> tuple[float, int, Sample | None]:
    """Byte-days of the step function the samples draw over [start, end).

    A sample's figures hold from its time until the next sample; before the first sample
    nothing was stored. Returns (byte-days, largest bytes seen, the last sample in force).
    """
    total = 0
    peak = 0
    last: Sample | None = None
    for index, sample in enumerate(samples):
        until = samples[index + 1].at if index + 1 < len(samples) else end
        lo, hi = max(sample.at, start), min(until, end)
        if hi > lo:
            total += sample.bytes * (hi - lo)
            peak = max(peak, sample.bytes)
        if sample.at < end:
            last = sample
    return total / DAY_US, peak, last


def attention_notice(project: Project) -> tuple[str, str]:
    """(subject, body) of the notice that a project's grace period is over."""
    expired = iso(project.expires_at or 0)
    subject = f"Project {project.name}: grace period over, archive or delete it"
    body = "\n".join(
        [
            f"The project {project.name!r} expired on {expired}; its buckets have been",
            f"read-only since, and its grace period of {project.grace_days} days is over.",
            "Archive its data and delete the project, or extend its expiry.",
            "",
            f"Stored:   {project.used_bytes} bytes in {project.used_objects} objects",
            "",
            f"  lading project show {project.name}",
            "  lading project list --needs-attention",
            f"  lading project update {project.name} --expires YYYY-MM-DD   (to extend it)",
        ]
    )
    return subject, body + "\n"


class UsageService:
    """The per-process meter, the usage pass and the charge-back report."""

    def __init__(self, directory: Directory, mailer: Mailer | None = None) -> None:
        self.directory = directory
        self.mailer = mailer
        self.meter = UsageMeter()

    async def flush(self, now_us: int) -> None:
        """Store what this process counted since the last flush."""
        counts = self.meter.drain()
        if counts:
            await run_blocking(self.directory.record_traffic, now_us, counts)

    def usage_pass(self, now_us: int) -> list[Project]:
        """Sample every project's storage; warn about projects past expiry and grace, and
        tell the administrators once per expiry (a message in the outbox, mailed when SMTP
        is set up, to each administrator with an e-mail address).

        Returns the projects needing attention (blocking: call from a worker thread).
        """
        self.directory.record_samples(now_us)
        late = [p for p in self.directory.all_projects() if p.needs_attention(now_us)]
        for project in late:
            log.warning(
                "project %s expired on %s and its %d-day grace period is over: archive or "
                "delete it",
                project.name,
                iso(project.expires_at or 0),
                project.grace_days,
            )
            if self.mailer is not None and self.directory.claim_attention_notice(
                project.id, project.expires_at or 0
            ):
                self._tell_administrators(project)
        return late

    def _tell_administrators(self, project: Project) -> None:
        assert self.mailer is not None
        subject, body = attention_notice(project)
        addresses = [u.email for u in self.directory.administrators() if u.email]
        for recipient in addresses or [ADMINISTRATORS]:
            self.mailer.send_blocking(recipient, subject, body)

    async def report(
        self, actor: User, project_names: list[str], start: int, end: int, now_us: int
    ) -> list[UsageLine]:
        """Usage lines for the named projects (all of them for administrators, when none).

        Storage after `now_us` is not counted: a period reaching into the future ends now.
        """
        if end <= start:
            raise errors.InvalidArgument("The report's end must come after its start.")
        if project_names:
            projects = [
                await run_blocking(self.directory.get_project, name) for name in project_names
            ]
        elif actor.is_admin:
            projects = await run_blocking(self.directory.all_projects)
        else:
            projects = await run_blocking(
                lambda: self.directory.list_projects(limit=10_000, member=actor.id)
            )
        for project in projects:
            if not actor.is_admin and project_names and actor.name not in project.members:
                raise errors.NoSuchProject(project.name)
        stop = max(start, min(end, now_us))
        return [await run_blocking(self._line, p, start, end, stop) for p in projects]

    def _line(self, project: Project, start: int, end: int, stop: int) -> UsageLine:
        samples = self.directory.samples(project.id, stop)
        byte_days, peak, last = integrate(samples, start, stop)
        requests, downloaded = self.directory.traffic(project.id, start, end)
        days = (stop - start) / DAY_US
        return UsageLine(
            project=project.name,
            start=start,
            end=end,
            byte_days=byte_days,
            average_bytes=byte_days / days if days > 0 else 0.0,
            max_bytes=peak,
            bytes_at_end=last.bytes if last is not None else 0,
            objects_at_end=last.objects if last is not None else 0,
            requests=requests,
            bytes_downloaded=downloaded,
        )
