"""The `lading` command: a root group whose subcommands import lazily."""

from __future__ import annotations

import importlib

import click

from lading import __version__

# name -> "module:attribute"; a command's module is imported only when it runs
COMMANDS = {
    "serve": "lading.cli.commands.serve:serve",
    "admin": "lading.cli.commands.admin:admin",
    "worker": "lading.cli.commands.worker:worker",
    "cp": "lading.cli.commands.cp:cp",
    "sync": "lading.cli.commands.sync:sync",
    "endpoint": "lading.cli.commands.endpoint:endpoint",
    "transfer": "lading.cli.commands.transfer:transfer",
    "whoami": "lading.cli.commands.whoami:whoami",
    "share": "lading.cli.commands.share:share",
    "link": "lading.cli.commands.link:link",
    "key": "lading.cli.commands.key:key",
    "login": "lading.cli.commands.login:login",
    "logout": "lading.cli.commands.login:logout",
    "passwd": "lading.cli.commands.login:passwd",
    "audit": "lading.cli.commands.audit:audit",
    "user": "lading.cli.commands.user:user",
    "group": "lading.cli.commands.group:group",
    "project": "lading.cli.commands.project:project",
    "usage": "lading.cli.commands.usage.report:usage",
    "catalog": "lading.cli.commands.catalog:catalog",
}


class LazyGroup(click.Group):
    """A click group that imports each subcommand on first use."""

    def __init__(self, *args: object, lazy: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module_name, _, attribute = self.lazy[cmd_name].partition(":")
            command: click.Command = getattr(importlib.import_module(module_name), attribute)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lading")
def cli() -> None:
    """Lading: an S3-compatible research data store.

    \b
    Examples:
      lading serve --data-dir ./lading-data
      lading admin add-user alice
      lading whoami --endpoint http://127.0.0.1:9000
    """


def main() -> None:
    cli(auto_envvar_prefix=None)
