"""`lading transfer ...`: submit and follow transfers that the server's workers carry out."""

from __future__ import annotations

import sys
from typing import Any

import click

from lading.cli.output import json_option, show_record, show_table
from lading.cli.remote import Remote, api_errors, remote_options

COLUMNS = ("task_id", "status", "label", "files_copied", "files_failed", "bytes_copied")
SYNC_LEVELS = ("exists", "size", "mtime", "checksum")


def _client(remote: Remote):  # type: ignore[no-untyped-def]
    from lading.client.transfers import TransferClient

    return remote.client(TransferClient)


def _split(text: str, what: str) -> tuple[str, str]:
    name, sep, path = text.partition(":")
    if not sep or not name:
        raise click.BadParameter(f"{text!r}: write ENDPOINT:PATH", param_hint=what)
    return name, path


@click.group()
def transfer() -> None:
    """Submit transfers between endpoints and follow them; the server does the copying.

    \b
    Examples:
      lading transfer submit lab:runs/42 archive:runs/42 --recursive --label run42
      lading transfer wait TASK_ID
      lading transfer events TASK_ID --json
    """


def task_options(func: Any) -> Any:
    """The options of a task, shared by `submit` and `schedule create`."""
    options = [
        click.argument("src"),
        click.argument("dst"),
        click.option("--recursive", "-r", is_flag=True, help="SRC is a directory tree."),
        click.option("--label", default="", help="A name for the task."),
        click.option(
            "--sync-level", type=click.Choice(SYNC_LEVELS), help="Skip files already there."
        ),
        click.option("--delete", "delete_extra", is_flag=True, help="Delete destination extras."),
        click.option("--exclude", multiple=True, metavar="GLOB", help="Skip files matching GLOB."),
        click.option(
            "--include",
            multiple=True,
            metavar="GLOB",
            help="Keep files matching GLOB (include rules come before exclude rules; the "
            "first match wins).",
        ),
        click.option("--preserve-timestamp", is_flag=True, help="Give copies the source's mtime."),
        click.option("--no-verify", is_flag=True, help="Do not read back unverifiable copies."),
        click.option("--skip-source-errors", is_flag=True, help="Skip unreadable source files."),
        click.option(
            "--fail-on-quota-errors", is_flag=True, help="Stop when the destination is full."
        ),
        click.option(
            "--notify-webhook", default="", metavar="URL", help="POSTed the task when it ends."
        ),
        click.option(
            "--notify-email",
            multiple=True,
            metavar="ADDRESS",
            help="Mail the notice here (repeatable); default: your account's e-mail address.",
        ),
        click.option(
            "--notify",
            "notify_on",
            default="succeeded,failed",
            show_default=True,
            metavar="EVENTS",
            help="When to mail: comma-separated succeeded, failed, inactive; or on, off.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _notify_on(text: str) -> dict[str, bool]:
    """Globus CLI's --notify: 'on', 'off' or a comma-separated list of the ends to mail."""
    events = {w.strip().lower() for w in text.split(",") if w.strip()}
    if events == {"on"}:
        events = {"succeeded", "failed", "inactive"}
    elif events == {"off"}:
        events = set()
    unknown = events - {"succeeded", "failed", "inactive"}
    if unknown:
        raise click.BadParameter(
            f"{', '.join(sorted(unknown))}: use succeeded, failed, inactive, on or off",
            param_hint="--notify",
        )
    return {f"notify_on_{e}": e in events for e in ("succeeded", "failed", "inactive")}


def task_body(opts: dict[str, Any]) -> tuple[str, str, list[dict[str, Any]], dict[str, Any]]:
    """(source, destination, items, options) of the SDK call from the shared options."""
    source, source_path = _split(opts.pop("src"), "SRC")
    destination, destination_path = _split(opts.pop("dst"), "DST")
    rules = [{"action": "include", "pattern": g} for g in opts.pop("include")]
    rules += [{"action": "exclude", "pattern": g} for g in opts.pop("exclude")]
    item = {
        "source_path": source_path,
        "destination_path": destination_path,
        "recursive": opts.pop("recursive"),
    }
    options: dict[str, Any] = {
        "label": opts.pop("label"),
        "sync_level": opts.pop("sync_level"),
        "delete_destination_extra": opts.pop("delete_extra"),
        "filter_rules": rules,
        "preserve_timestamp": opts.pop("preserve_timestamp"),
        "verify_checksum": not opts.pop("no_verify"),
        "skip_source_errors": opts.pop("skip_source_errors"),
        "fail_on_quota_errors": opts.pop("fail_on_quota_errors"),
        "notify_webhook": opts.pop("notify_webhook"),
        "notify_email": list(opts.pop("notify_email")),
        **_notify_on(opts.pop("notify_on")),
    }
    return source, destination, [item], options


@transfer.command("submit")
@task_options
@click.option("--submission-id", default="", help="Resubmitting the same id returns the same task.")
@click.option("--deadline", metavar="ISO8601", help="Give up after this moment.")
@click.option(
    "--wait", "wait_", is_flag=True, help="Wait for the task to end; exit 1 if it failed."
)
@remote_options
@json_option
def submit(
    submission_id: str,
    deadline: str | None,
    wait_: bool,
    remote: Remote,
    as_json: bool,
    **opts: Any,
) -> None:
    """Submit a transfer from SRC to DST, both ENDPOINT:PATH.

    \b
    Example:
      $ lading transfer submit lab:runs/42 archive:runs/42 -r --sync-level checksum \\
          --notify failed --notify-email lab@example.org
    """
    source, destination, items, options = task_body(opts)
    options["submission_id"] = submission_id
    if deadline:
        options["deadline"] = deadline
    with api_errors(), _client(remote) as client:
        task = client.submit_transfer(source, destination, items, **options)
        if wait_:
            task = client.wait_transfer(task["task_id"])
    show_record(task, as_json=as_json)
    if wait_ and task["status"] == "FAILED":
        sys.exit(1)


@transfer.command("show")
@click.argument("task_id")
@remote_options
@json_option
def show(task_id: str, remote: Remote, as_json: bool) -> None:
    """Show a transfer: status, counters, throughput.

    \b
    Example:
      $ lading transfer show 6f1c...
    """
    with api_errors(), _client(remote) as client:
        show_record(client.get_transfer(task_id), as_json=as_json)


@transfer.command("list")
@click.option("--status", type=click.Choice(["ACTIVE", "INACTIVE", "SUCCEEDED", "FAILED"]))
@remote_options
@json_option
def list_(status: str | None, remote: Remote, as_json: bool) -> None:
    """List your transfers.

    \b
    Example:
      $ lading transfer list --status ACTIVE
    """
    with api_errors(), _client(remote) as client:
        show_table(list(client.list_transfers(status=status)), COLUMNS, as_json=as_json)


@transfer.command("events")
@click.argument("task_id")
@remote_options
@json_option
def events(task_id: str, remote: Remote, as_json: bool) -> None:
    """List a transfer's events (one per file copied, skipped or failed, retries...).

    \b
    Example:
      $ lading transfer events 6f1c... --json
    """
    with api_errors(), _client(remote) as client:
        found = list(client.transfer_events(task_id))
    show_table(found, ("id", "kind", "path", "details"), as_json=as_json)


@transfer.command("wait")
@click.argument("task_id")
@click.option("--timeout", default=3600.0, show_default=True, help="Seconds to wait at most.")
@remote_options
@json_option
def wait(task_id: str, timeout: float, remote: Remote, as_json: bool) -> None:
    """Wait for a transfer to end; exit 1 if it failed, 2 if it is still running.

    \b
    Example:
      $ lading transfer wait 6f1c... --timeout 600
    """
    with api_errors(), _client(remote) as client:
        task = client.wait_transfer(task_id, timeout=timeout)
    show_record(task, as_json=as_json)
    if task["status"] == "FAILED":
        sys.exit(1)
    if task["status"] not in ("SUCCEEDED", "FAILED"):
        sys.exit(2)


def _control(verb: str) -> click.Command:
    @click.command(verb)
    @click.argument("task_id")
    @remote_options
    @json_option
    def command(task_id: str, remote: Remote, as_json: bool) -> None:
        with api_errors(), _client(remote) as client:
            task = getattr(client, f"{verb}_transfer")(task_id)
        show_record(task, as_json=as_json)

    command.help = (
        f"{verb.capitalize()} a transfer.\n\n\b\nExample:\n  $ lading transfer {verb} 6f1c..."
    )
    return command


for _verb in ("cancel", "pause", "resume"):
    transfer.add_command(_control(_verb))


@transfer.command("delete")
@click.argument("task_id")
@remote_options
def delete(task_id: str, remote: Remote) -> None:
    """Forget an ended transfer and its events.

    \b
    Example:
      $ lading transfer delete 6f1c...
    """
    with api_errors(), _client(remote) as client:
        client.delete_transfer(task_id)


@transfer.group("schedule")
def schedule() -> None:
    """Recurring syncs: every N minutes or on a cron expression (UTC).

    A run is skipped while the task of the previous run has not ended.

    \b
    Examples:
      lading transfer schedule create lab:runs archive:runs -r --every 60
      lading transfer schedule create lab:runs archive:runs -r --cron '0 2 * * *'
      lading transfer schedule list
    """


@schedule.command("create")
@task_options
@click.option("--every", "every_minutes", type=int, metavar="MINUTES", help="Run every N minutes.")
@click.option("--cron", help="Run on this cron expression (five fields, UTC).")
@remote_options
@json_option
def schedule_create(
    every_minutes: int | None, cron: str | None, remote: Remote, as_json: bool, **opts: Any
) -> None:
    """Create a recurring sync from SRC to DST (ENDPOINT:PATH); the first run starts now.

    \b
    Example:
      $ lading transfer schedule create lab:runs archive:runs -r --every 60 --delete
    """
    source, destination, items, options = task_body(opts)
    with api_errors(), _client(remote) as client:
        made = client.create_schedule(
            source, destination, items, every_minutes=every_minutes, cron=cron, **options
        )
    show_record(made, as_json=as_json)


@schedule.command("list")
@remote_options
@json_option
def schedule_list(remote: Remote, as_json: bool) -> None:
    """List your schedules.

    \b
    Example:
      $ lading transfer schedule list --json
    """
    columns = ("schedule_id", "label", "every_minutes", "cron", "next_run", "runs", "skipped")
    with api_errors(), _client(remote) as client:
        show_table(client.list_schedules(), columns, as_json=as_json)


@schedule.command("show")
@click.argument("schedule_id")
@remote_options
@json_option
def schedule_show(schedule_id: str, remote: Remote, as_json: bool) -> None:
    """Show a schedule and the task of its last run.

    \b
    Example:
      $ lading transfer schedule show 0b7e...
    """
    with api_errors(), _client(remote) as client:
        show_record(client.get_schedule(schedule_id), as_json=as_json)


@schedule.command("delete")
@click.argument("schedule_id")
@remote_options
def schedule_delete(schedule_id: str, remote: Remote) -> None:
    """Stop a schedule (a run in progress goes on).

    \b
    Example:
      $ lading transfer schedule delete 0b7e...
    """
    with api_errors(), _client(remote) as client:
        client.delete_schedule(schedule_id)
