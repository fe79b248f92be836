"""`lading catalog set`: set typed attributes on an object."""

from __future__ import annotations

import click

from lading.cli.commands.catalog._values import parse_assignment, split_s3_url
from lading.cli.output import json_option, show_record
from lading.cli.remote import Remote, api_errors, remote_options


@click.command("set")
@click.argument("url")
@click.argument("assignments", nargs=-1, required=True)
@click.option("--replace", is_flag=True, help="Drop the attributes not named here.")
@click.option("--version-id", help="A version other than the current one.")
@remote_options
@json_option
def set_attributes(
    remote: Remote,
    url: str,
    assignments: tuple[str, ...],
    replace: bool,
    version_id: str | None,
    as_json: bool,
) -> None:
    """Set attributes on s3://BUCKET/KEY.

    name=value types numbers, true/false and ISO dates as such; name:=JSON takes any
    attribute value (keywords:='["a","b"]'); name:=null removes one.

    \b
    Example:
      $ lading catalog set s3://datacont/sample1.bin experiment_id=exp1 date=2016-06-06
      experiment_id: exp1
      date:          2016-06-06T00:00:00Z
    """
    from lading.client.catalog import CatalogClient

    bucket, key = split_s3_url(url)
    attributes = dict(parse_assignment(a) for a in assignments)
    with api_errors(), remote.client(CatalogClient) as client:
        entry = client.set_attributes(
            bucket, key, attributes, replace=replace, version_id=version_id
        )
    show_record(entry if as_json else entry["attributes"], as_json=as_json)
