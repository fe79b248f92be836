"""`lading sync SRC DST`: make a directory tree at DST match SRC."""

from __future__ import annotations

from typing import Any

import click

from lading.cli.copying import SYNC_LEVELS, copy_options, run


@click.command(short_help="Make DST match SRC (local, s3://BUCKET/PREFIX or ENDPOINT:PATH).")
@click.argument("src")
@click.argument("dst")
@click.option(
    "--sync-level",
    type=click.Choice(SYNC_LEVELS),
    default="mtime",
    show_default=True,
    help="When a file present on both sides is copied again: exists (never), size (sizes "
    "differ), mtime (sizes differ or the source is newer), checksum (contents differ).",
)
@copy_options
def sync(src: str, dst: str, sync_level: str, **opts: Any) -> None:
    """Copy what is new or changed in the tree SRC to DST; with --delete, remove what SRC lacks.

    Listings are compared without a request per file (sizes, times and S3 ETags come with
    them), so a sync with nothing to do costs one listing of each side.

    \b
    Examples:
      lading sync ./plates s3://lab/plates
      lading sync ./plates s3://lab/plates --delete --dry-run
      lading sync s3://lab/plates ./plates --sync-level checksum --json
      lading sync ./plates archive:plates   # a registered endpoint, through the server
    """
    run(src, dst, recursive=True, sync_level=sync_level, **opts)
