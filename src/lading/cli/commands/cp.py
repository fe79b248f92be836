"""`lading cp SRC DST`: copy files between a local path, s3://BUCKET/PREFIX and ENDPOINT:PATH."""

from __future__ import annotations

from typing import Any

import click

from lading.cli.copying import SYNC_LEVELS, copy_options, run


@click.command(short_help="Copy files: local paths, s3://BUCKET/PREFIX, ENDPOINT:PATH.")
@click.argument("src")
@click.argument("dst")
@click.option("--recursive", "-r", is_flag=True, help="Copy a directory tree.")
@click.option(
    "--sync-level",
    type=click.Choice(SYNC_LEVELS),
    help="Skip files already at the destination: by existence, size, mtime (newer or other "
    "size) or checksum [default: copy every file].",
)
@copy_options
def cp(src: str, dst: str, recursive: bool, sync_level: str | None, **opts: Any) -> None:
    """Copy SRC to DST, checksums verified, retrying what fails.

    SRC and DST are local paths, s3://BUCKET/PREFIX on the server at --endpoint (credentials
    from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ~/.aws), or ENDPOINT:PATH, one of your
    registered endpoints, reached through that server. A DST ending in '/' (or an
    existing directory) receives the file under its own name. Large files go in parallel parts;
    run an interrupted copy again and it resumes from the last finished part. Exits 1 when a
    file failed.

    \b
    Examples:
      lading cp run42.fastq.gz s3://sequencing/raw/
      lading cp -r ./plates s3://lab/plates --sync-level size --json
      lading cp -r s3://lab/plates ./plates-copy --exclude '*.tmp'
      lading cp -r cluster:runs/42 ./run42
    """
    run(src, dst, recursive=recursive, sync_level=sync_level, **opts)
