"""`lading audit`: the audit log (administrators)."""

from __future__ import annotations

import click

from lading.cli.main import LazyGroup


@click.group(cls=LazyGroup, lazy={"list": "lading.cli.commands.audit.list:list_audit"})
def audit() -> None:
    """Query the audit log: every mutating request and every access denial.

    \b
    Examples:
      lading audit list --outcome denied
      lading audit list --user alice --from 2027-01-01 --to 2027-02-01 --json
    """
