"""`lading catalog search`: find objects by CQL2 filter and full-text words."""

from __future__ import annotations

import json
from typing import Any

import click

from lading.cli.output import json_option, show_table
from lading.cli.remote import Remote, api_errors, remote_options

DEFAULT_COLUMNS = ("bucket", "key", "size", "last_modified")


@click.command()
@click.argument("filter", required=False)
@click.option("-q", "--text", help="Full-text words over keys and string values.")
@click.option("--bucket", "buckets", multiple=True, help="Only this bucket (repeatable).")
@click.option("--sort", "sortby", multiple=True, help="Sort field, '-' for descending.")
@click.option("--fields", help="Comma-separated fields to return, e.g. url.")
@click.option("--facet", "facets", multiple=True, help="Count the values of this field.")
@click.option(
    "--limit",
    type=click.IntRange(1),
    default=100,
    show_default=True,
    help="At most this many objects.",
)
@remote_options
@json_option
def search(
    remote: Remote,
    filter: str | None,
    text: str | None,
    buckets: tuple[str, ...],
    sortby: tuple[str, ...],
    fields: str | None,
    facets: tuple[str, ...],
    limit: int,
    as_json: bool,
) -> None:
    """Search the objects you may read with a CQL2 FILTER.

    \b
    Examples:
      $ lading catalog search "experiment_id = 'experiment1'" --fields url
      URL
      http://127.0.0.1:9000/datacont/sample1.bin
      http://127.0.0.1:9000/datacont/sample2.bin
      $ lading catalog search "size > 1000000 AND date >= TIMESTAMP('2016-06-01T00:00:00Z')"
      $ lading catalog search -q "calibration run" --sort -size --facet experiment_id
    """
    from lading.client.catalog import CatalogClient

    chosen = [f for f in (fields or "").split(",") if f]
    items: list[dict[str, Any]] = []
    facet_counts: dict[str, Any] = {}
    cursor = None
    with api_errors(), remote.client(CatalogClient) as client:
        while len(items) < limit:
            page = client.search(
                filter,
                q=text,
                buckets=buckets,
                sortby=sortby,
                fields=chosen,
                facets=facets if cursor is None else (),
                limit=min(limit - len(items), 1000),
                cursor=cursor,
            )
            items += page["items"]
            facet_counts = facet_counts or page.get("facets", {})
            cursor = page.get("next")
            if not cursor:
                break
    if as_json:
        document: Any = {"items": items, "facets": facet_counts} if facets else items
        click.echo(json.dumps(document, indent=2, sort_keys=True))
        return
    show_table(items, chosen or DEFAULT_COLUMNS, as_json=False)
    for name, values in facet_counts.items():
        click.echo()
        show_table(
            [{"facet": name, **v} for v in values], ("facet", "value", "count"), as_json=False
        )
