"""`lading worker`: background work (lifecycle rules, event delivery) without serving HTTP."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lading.cli.options import data_options, load

if TYPE_CHECKING:
    from lading.settings import Settings


def parse_moment(value: str) -> int:
    """Epoch microseconds of an ISO 8601 moment (UTC when it names no offset)."""
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 moment (e.g. 2030-01-31T00:00:00Z)", param_hint="--now"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1_000_000)


@click.command()
@data_options
@click.option("--once", is_flag=True, help="Run one pass and exit.")
@click.option(
    "--now",
    "now",
    metavar="ISO8601",
    help="With --once: apply the rules as if it were this moment (UTC unless an offset is given).",
)
@click.option("--json", "as_json", is_flag=True, help="Print each pass's report as JSON.")
@click.option(
    "--transfers",
    "transfer_threads",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Transfer worker threads: they claim and copy the files of transfer tasks "
    "(0: none; not with --once).",
)
def worker(
    data_dir: Path | None,
    config_file: Path | None,
    once: bool,
    now: str | None,
    as_json: bool,
    transfer_threads: int,
) -> None:
    """Apply bucket lifecycle rules, deliver bucket notification events, sample project usage.

    Runs a lifecycle pass (expiration, noncurrent versions, stale uploads) every
    lifecycle_seconds (LADING_LIFECYCLE_SECONDS) on the same data directory or database as
    the servers, without serving HTTP: for deployments of several nodes, or servers started
    with lifecycle_seconds = 0. Passes never overlap, whichever process runs them. It also
    delivers notification events from the outbox to their topics (events.delivery), sharing
    the work with servers and other workers, and carries out transfer tasks (--transfers
    threads). The bytes of what a pass expires are deleted storage.delete_delay_seconds
    later, as a server deletes them, so that downloads under way finish. With --once it runs
    one pass (deleting at once), then delivers the events that are due, and the exit status
    is 1 when a bucket's pass failed.

    \b
    Examples:
      lading worker --data-dir /srv/lading
      lading worker --data-dir /srv/lading --transfers 4
      lading worker --once --json
      lading worker --once --now 2030-01-31T00:00:00Z --json
    """
    import asyncio
    import logging

    settings = load(config_file, data_dir=data_dir)
    if now is not None and not once:
        raise click.UsageError("--now works only with --once")
    at_us = parse_moment(now) if now is not None else None
    repeats = settings.lifecycle_seconds > 0 or settings.events.delivery or transfer_threads
    if not once and not repeats:
        raise click.UsageError(
            "lifecycle_seconds is 0, events.delivery is off and --transfers is 0: there is "
            "nothing to repeat (use --once)"
        )
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        failed = asyncio.run(_work(settings, once, at_us, as_json, transfer_threads))
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C, SIGTERM
        return
    if failed:
        raise SystemExit(1)


async def _work(
    settings: Settings, once: bool, at_us: int | None, as_json: bool, transfer_threads: int = 0
) -> bool:
    """Run passes (one with once) and print each report; True when the last one failed."""
    import asyncio
    import contextlib
    import logging
    import signal

    from lading.app import build_deliverer, open_for_work, transfer_workers
    from lading.concurrency import run_blocking
    from lading.lifecycle import run_lifecycle

    async def cancel(task: asyncio.Task[Any]) -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    main = asyncio.current_task()
    assert main is not None
    # SIGTERM (systemd, docker stop) stops it as Ctrl-C does: what it holds is cleaned up
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main.cancel)
    async with contextlib.AsyncExitStack() as stack:  # every step of the way out is taken
        meta, services, deletes = await run_blocking(open_for_work, settings)
        stack.callback(meta.engine.dispose)
        if deletes is not None and not once:  # with --once, expired blobs go at once
            stack.push_async_callback(run_blocking, deletes.close)
            stack.push_async_callback(cancel, asyncio.create_task(deletes.run()))
        delivering = None
        if settings.events.delivery and not once:
            delivering = asyncio.create_task(build_deliverer(settings, meta).run())
            stack.push_async_callback(cancel, delivering)
        if not once and transfer_threads:
            stack.push_async_callback(run_blocking, transfer_workers(services, transfer_threads))
        while settings.lifecycle_seconds > 0 or once:
            moment = at_us if at_us is not None else time.time_ns() // 1000
            report = await run_lifecycle(
                meta, services.objects, services.multipart, moment, wait=True
            )
            await run_blocking(services.usage.usage_pass, moment)  # samples project storage
            click.echo(json.dumps(report.as_dict()) if as_json else report.summary())
            if once:
                if settings.events.delivery:
                    sent = await build_deliverer(settings, meta).drain()
                    logging.getLogger("lading.worker").info("events: %d delivered", sent)
                return report.failed_buckets > 0
            await asyncio.sleep(settings.lifecycle_seconds)
        if delivering is not None:
            await delivering
        else:  # transfers only: their threads do the work
            await asyncio.Event().wait()
        return False
