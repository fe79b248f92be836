"""`lading catalog get`: an object's catalog entry."""

from __future__ import annotations

import click

from lading.cli.commands.catalog._values import split_s3_url
from lading.cli.output import json_option, show_record
from lading.cli.remote import Remote, api_errors, remote_options


@click.command()
@click.argument("url")
@click.option("--version-id", help="A version other than the current one.")
@remote_options
@json_option
def get(remote: Remote, url: str, version_id: str | None, as_json: bool) -> None:
    """Show the catalog entry of s3://BUCKET/KEY (metadata, tags, attributes).

    \b
    Example:
      $ lading catalog get s3://datacont/sample1.bin
      bucket:        datacont
      key:           sample1.bin
      ...
      attributes:    {"date": "2016-06-06T00:00:00Z", "experiment_id": "exp1"}
    """
    from lading.client.catalog import CatalogClient

    bucket, key = split_s3_url(url)
    with api_errors(), remote.client(CatalogClient) as client:
        show_record(client.get_attributes(bucket, key, version_id=version_id), as_json=as_json)
