"""`lading endpoint ...`: named storage locations that transfers move data between."""

from __future__ import annotations

import click

from lading.cli.output import json_option, show_record, show_table
from lading.cli.remote import Remote, api_errors, remote_options

COLUMNS = ("name", "kind", "config", "has_credentials", "created_at")


def _client(remote: Remote):  # type: ignore[no-untyped-def]
    from lading.client.transfers import TransferClient

    return remote.client(TransferClient)


@click.group()
def endpoint() -> None:
    """Manage transfer endpoints: S3 buckets anywhere, or directories the server exports.

    \b
    Examples:
      lading endpoint create lab --kind posix --root lab
      lading endpoint create archive --kind s3 --url https://s3.example.org \\
          --bucket archive --access-key AKIA...
      lading endpoint ls lab runs/2026
    """


@endpoint.command("create")
@click.argument("name")
@click.option("--kind", type=click.Choice(["s3", "posix"]), required=True, help="Storage kind.")
@click.option("--url", help="s3: the service URL.")
@click.option("--bucket", help="s3: the bucket.")
@click.option("--region", help="s3: the region to sign for.")
@click.option("--addressing-style", type=click.Choice(["path", "virtual"]), help="s3: URL style.")
@click.option("--root", help="posix: the name of a directory the administrator exported.")
@click.option("--access-key", help="s3: access key id (the secret is asked for).")
@click.option(
    "--secret-key",
    envvar="LADING_ENDPOINT_SECRET_KEY",
    help="s3: secret key [env LADING_ENDPOINT_SECRET_KEY; asked for if missing].",
)
@remote_options
@json_option
def create(
    name: str,
    kind: str,
    url: str | None,
    bucket: str | None,
    region: str | None,
    addressing_style: str | None,
    root: str | None,
    access_key: str | None,
    secret_key: str | None,
    remote: Remote,
    as_json: bool,
) -> None:
    """Register an endpoint; its credentials are stored encrypted and never shown.

    \b
    Example:
      $ lading endpoint create lab --kind posix --root lab
    """
    given = {
        "url": url,
        "bucket": bucket,
        "region": region,
        "addressing_style": addressing_style,
        "root": root,
    }
    config = {k: v for k, v in given.items() if v}
    credentials = None
    if access_key:
        if not secret_key:
            secret_key = click.prompt("Secret key", hide_input=True)
        credentials = {"access_key": access_key, "secret_key": str(secret_key)}
    with api_errors(), _client(remote) as client:
        made = client.create_endpoint(name, kind, config=config, credentials=credentials)
    show_record(made, as_json=as_json)


@endpoint.command("list")
@remote_options
@json_option
def list_(remote: Remote, as_json: bool) -> None:
    """List your endpoints.

    \b
    Example:
      $ lading endpoint list --json
    """
    with api_errors(), _client(remote) as client:
        show_table(client.list_endpoints(), COLUMNS, as_json=as_json)


@endpoint.command("show")
@click.argument("name")
@remote_options
@json_option
def show(name: str, remote: Remote, as_json: bool) -> None:
    """Show one endpoint.

    \b
    Example:
      $ lading endpoint show lab
    """
    with api_errors(), _client(remote) as client:
        show_record(client.get_endpoint(name), as_json=as_json)


@endpoint.command("delete")
@click.argument("name")
@remote_options
def delete(name: str, remote: Remote) -> None:
    """Remove an endpoint (refused while an unfinished transfer uses it).

    \b
    Example:
      $ lading endpoint delete old-archive
    """
    with api_errors(), _client(remote) as client:
        client.delete_endpoint(name)


@endpoint.command("ls")
@click.argument("name")
@click.argument("path", default="")
@click.option("--limit", default=1000, show_default=True, help="At most this many files.")
@remote_options
@json_option
def ls(name: str, path: str, limit: int, remote: Remote, as_json: bool) -> None:
    """List the files under PATH of an endpoint, recursively.

    \b
    Example:
      $ lading endpoint ls lab runs/2026
    """
    with api_errors(), _client(remote) as client:
        show_table(
            client.endpoint_ls(name, path, limit=limit), ("path", "size", "mtime"), as_json=as_json
        )


@endpoint.command("mkdir")
@click.argument("name")
@click.argument("path")
@remote_options
def mkdir(name: str, path: str, remote: Remote) -> None:
    """Create a directory (and its parents) on an endpoint.

    \b
    Example:
      $ lading endpoint mkdir lab runs/2027
    """
    with api_errors(), _client(remote) as client:
        client.endpoint_mkdir(name, path)


@endpoint.command("rename")
@click.argument("name")
@click.argument("old_path")
@click.argument("new_path")
@remote_options
def rename(name: str, old_path: str, new_path: str, remote: Remote) -> None:
    """Move a file on an endpoint.

    \b
    Example:
      $ lading endpoint rename lab runs/a.csv runs/old/a.csv
    """
    with api_errors(), _client(remote) as client:
        client.endpoint_rename(name, old_path, new_path)
