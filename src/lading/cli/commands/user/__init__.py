"""`lading user`: users of the server (administrators manage them)."""

from __future__ import annotations

import click

from lading.cli.main import LazyGroup

VERBS = {
    "list": "lading.cli.commands.user.list:list_",
    **{
        verb: f"lading.cli.commands.user.{verb}:{verb}"
        for verb in ("create", "show", "update", "enable", "disable")
    },
}


@click.group(cls=LazyGroup, lazy=VERBS)
def user() -> None:
    """List, create, show and change users; enable and disable them.

    \b
    Examples:
      lading user list
      lading user create alice --email alice@lab.example
      lading user disable alice
    """
