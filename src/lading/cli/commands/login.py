"""`lading login` and `lading logout`: bearer tokens for the CLI and unattended agents."""

from __future__ import annotations

import getpass
import sys

import click

from lading.cli.remote import Remote, api_errors, remote_options


def read_password(from_stdin: bool, prompt: str = "Password") -> str:
    """A password from the first line of stdin, or typed at a hidden prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return getpass.getpass(f"{prompt}: ")


@click.command()
@remote_options
@click.option("--username", "-u", help="Your user name (asked when not given).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--description", default="", help="A note shown in the token list.")
def login(remote: Remote, username: str | None, password_stdin: bool, description: str) -> None:
    """Log in with your password; the tokens are kept in ~/.config/lading (mode 0600).

    The access token lasts an hour and is refreshed on its own with the refresh token, which
    lasts 90 days (server settings) unless revoked with `lading logout`.

    \b
    Examples:
      $ lading login --username alice
      Password:
      logged in to http://127.0.0.1:9000 as alice until 2027-03-01T12:00:00+00:00
      $ echo "$PASSWORD" | lading login -u agent --password-stdin
    """
    import socket

    from lading.cli import tokens
    from lading.client.auth import AuthClient
    from lading.client.errors import AuthenticationError

    name = username or click.prompt("Username")
    password = read_password(password_stdin)
    with api_errors(), AuthClient(remote.endpoint) as client:
        try:
            pair = client.login(name, password, description=description or socket.gethostname())
        except AuthenticationError as exc:
            raise click.ClickException(f"Login refused: {exc.message} [{exc.code}]") from exc
    tokens.store(remote.endpoint, name, pair, pair["refresh_token"])
    click.echo(f"logged in to {remote.endpoint} as {name} until {pair['refresh_expires_at']}")


@click.command()
@remote_options
def logout(remote: Remote) -> None:
    """Revoke the stored refresh token and forget it.

    \b
    Example:
      $ lading logout
      logged out of http://127.0.0.1:9000
    """
    from lading.cli import tokens
    from lading.client.auth import AuthClient
    from lading.client.errors import LadingClientError

    entry = tokens.forget(remote.endpoint)
    if entry is None:
        raise click.ClickException(f"Not logged in to {remote.endpoint}.")
    try:
        with AuthClient(remote.endpoint) as client:
            client.revoke(entry["refresh_token"])
    except LadingClientError as exc:
        click.echo(f"warning: the server did not revoke the token: {exc}", err=True)
    click.echo(f"logged out of {remote.endpoint}")


@click.command()
@remote_options
@click.option("--user", help="Set another user's password (administrators).")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the new password from the first line of standard input and, when changing "
    "your own, the current one from the second.",
)
def passwd(remote: Remote, user: str | None, password_stdin: bool) -> None:
    """Set your password (for `lading login`), or another user's as an administrator.

    \b
    Examples:
      $ lading passwd
      New password:
      Again:
      Current password (empty if none):
      $ lading passwd --user alice          (administrators)
    """
    from lading.client.auth import AuthClient

    new = read_password(password_stdin, "New password")
    if not password_stdin and read_password(False, "Again") != new:
        raise click.ClickException("The two passwords differ.")
    with api_errors(), remote.client(AuthClient) as client:
        if user is not None:
            client.set_password(user, new)
        else:
            current = read_password(password_stdin, "Current password (empty if none)")
            client.set_my_password(new, current_password=current or None)
    click.echo("password set")
