"""How commands that talk to a running server find it and authenticate.

The endpoint comes from --endpoint or LADING_ENDPOINT (default http://127.0.0.1:9000); the
credentials from the usual AWS sources: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, else the
profile (--profile, AWS_PROFILE, "default") of ~/.aws/credentials (AWS_SHARED_CREDENTIALS_FILE),
else the bearer token `lading login` stored for the endpoint (refreshed when it expired).
"""

from __future__ import annotations

import configparser
import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from lading.client._base import BaseClient

F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound="BaseClient")
DEFAULT_ENDPOINT = "http://127.0.0.1:9000"
NOT_LOGGED_IN = (
    "Not logged in: run `lading login`, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
    "(or an ~/.aws profile) to the access key pair the server gave you."
)


@dataclass(frozen=True, slots=True)
class Remote:
    """Where the server is and who we are to it."""

    endpoint: str
    access_key: str | None
    secret_key: str | None
    region: str

    def client(self, cls: type[C]) -> C:
        if self.access_key and self.secret_key:
            return cls(
                self.endpoint,
                access_key=self.access_key,
                secret_key=self.secret_key,
                region=self.region,
            )
        from lading.cli import tokens

        login = tokens.current(self.endpoint)
        if login is None:
            raise click.ClickException(NOT_LOGGED_IN)
        return cls(self.endpoint, token=login["access_token"], region=self.region)

    @property
    def uses_login(self) -> bool:
        """Whether calls go with the token of `lading login` (no key pair is set)."""
        return not (self.access_key and self.secret_key)


def _profile_credentials(profile: str) -> tuple[str | None, str | None]:
    path = Path(os.environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")).expanduser()
    parser = configparser.ConfigParser()
    if not parser.read(path) or not parser.has_section(profile):
        return None, None
    section = parser[profile]
    return section.get("aws_access_key_id"), section.get("aws_secret_access_key")


def find_remote(endpoint: str | None, profile: str | None) -> Remote:
    access = os.environ.get("AWS_ACCESS_KEY_ID")
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY")
    if profile or not (access and secret):
        access, secret = _profile_credentials(profile or os.environ.get("AWS_PROFILE", "default"))
    return Remote(
        endpoint or os.environ.get("LADING_ENDPOINT") or DEFAULT_ENDPOINT,
        access,
        secret,
        os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
    )


def remote_options(func: F) -> F:
    """Add --endpoint and --profile; the command receives `remote: Remote`."""

    @click.option(
        "--endpoint",
        metavar="URL",
        help="The Lading server [env LADING_ENDPOINT; default http://127.0.0.1:9000].",
    )
    @click.option("--profile", help="The ~/.aws/credentials profile to sign with.")
    @functools.wraps(func)
    def wrapper(*args: Any, endpoint: str | None, profile: str | None, **kwargs: Any) -> Any:
        return func(*args, remote=find_remote(endpoint, profile), **kwargs)

    return wrapper  # type: ignore[return-value]


@contextmanager
def api_errors() -> Iterator[None]:
    """Turn the SDK's errors into a CLI message and a non-zero exit."""
    from lading.client.errors import APIError, AuthenticationError, ConnectionFailed

    try:
        yield
    except AuthenticationError as exc:
        raise click.ClickException(f"{exc.message} (not logged in?)") from exc
    except APIError as exc:
        raise click.ClickException(f"{exc.message} [{exc.code}, HTTP {exc.http_status}]") from exc
    except ConnectionFailed as exc:
        raise click.ClickException(str(exc)) from exc
