"""Every command of `lading user|group|project|key|share|link|usage|audit` and `whoami`.

Each one has a `--help` with an example and a `--json` output, and, run with no credentials
at all, says clearly that you are not logged in (before it sends anything).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from lading.cli.main import cli
from lading.testing.server import RunningServer

GROUPS = ("user", "group", "project", "key", "share", "link", "usage", "audit", "whoami")
# values for arguments and required options whose type alone does not give a valid one
VALUES = {"when": "never", "start": "2026-01-01", "end": "2026-12-31"}
# commands that need one of several optional choices
EXTRA = {"share create": ["--user", "x"], "link create": ["--prefix", "x/"]}


def leaves(command: click.Command, path: list[str]) -> Iterator[tuple[list[str], click.Command]]:
    if isinstance(command, click.Group):
        ctx = click.Context(command, info_name=path[-1])
        for name in command.list_commands(ctx):
            found = command.get_command(ctx, name)
            assert found is not None, name
            yield from leaves(found, [*path, name])
    else:
        yield path, command


def commands() -> list[tuple[list[str], click.Command]]:
    ctx = click.Context(cli, info_name="lading")
    found: list[tuple[list[str], click.Command]] = []
    for name in GROUPS:
        command = cli.get_command(ctx, name)
        assert command is not None, name
        found.extend(leaves(command, [name]))
    return found


COMMANDS = commands()


def sample(param: click.Parameter) -> str:
    if param.name in VALUES:
        return VALUES[param.name]
    if isinstance(param.type, click.Choice):
        return str(param.type.choices[0])
    if isinstance(param.type, click.types.IntParamType):
        return "1"
    return "x"


def required_args(command: click.Command) -> list[str]:
    args: list[str] = []
    for param in command.params:
        if isinstance(param, click.Argument) and param.required:
            args.append(sample(param))
        elif isinstance(param, click.Option) and param.required:
            args += [param.opts[0], sample(param)]
    return args


def test_the_tree_is_complete() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    for expected in ("key show", "key expire", "link show", "usage", "audit list", "whoami"):
        assert expected in names


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_has_an_example_and_json_output(
    path: list[str], command: click.Command
) -> None:
    assert "Example" in (command.help or ""), f"lading {' '.join(path)} --help has no example"
    options = {opt for param in command.params for opt in getattr(param, "opts", [])}
    assert "--json" in options, f"lading {' '.join(path)} has no --json"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_says_when_you_are_not_logged_in(
    server: RunningServer, tmp_path: Path, path: list[str], command: click.Command
) -> None:
    name = " ".join(path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LADING_", "XDG_"))}
    env.update(
        HOME=str(tmp_path),
        LADING_ENDPOINT=server.url,
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
    )
    done = subprocess.run(
        [sys.executable, "-m", "lading", *path, *required_args(command), *EXTRA.get(name, [])],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Not logged in: run `lading login`" in done.stderr, done.stderr
