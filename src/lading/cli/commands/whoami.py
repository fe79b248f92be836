"""`lading whoami`: who the server takes you for."""

from __future__ import annotations

import click

from lading.cli.output import json_option, show_record
from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@remote_options
@json_option
def whoami(remote: Remote, as_json: bool) -> None:
    """Show the user your credentials belong to, and when they expire.

    \b
    Example:
      $ lading whoami
      user:               alice
      display_name:       alice
      is_admin:           False
      access_key:         LADX...
      credentials_expire: -
    """
    from lading.client.identity import IdentityClient

    with api_errors(), remote.client(IdentityClient) as client:
        record = client.whoami()
    if remote.uses_login:
        from lading.cli import tokens

        login = tokens.load_all().get(remote.endpoint)
        if login is not None:  # the access token is renewed until the login itself ends
            from datetime import UTC, datetime

            ends = datetime.fromtimestamp(login["refresh_expires_at"], UTC)
            record["login_expires"] = ends.isoformat(timespec="seconds")
    show_record(record, as_json=as_json)
