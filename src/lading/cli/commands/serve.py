"""`lading serve`: run the server."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from lading.cli.options import data_options, load


@click.command()
@data_options
@click.option("--address", help="HOST:PORT to listen on [default: 127.0.0.1:9000].")
@click.option("--workers", type=click.IntRange(min=1), help="Server processes [default: 1].")
def serve(
    data_dir: Path | None, config_file: Path | None, address: str | None, workers: int | None
) -> None:
    """Start the S3 server with embedded defaults (SQLite + local files).

    \b
    Examples:
      lading serve
      lading serve --data-dir /srv/lading --address 0.0.0.0:9000 --workers 2
      LADING_ROOT_ACCESS_KEY=admin LADING_ROOT_SECRET_KEY=secret123 lading serve
    """
    import logging

    from lading.app import prepare_data_dir
    from lading.runner import run

    settings = load(config_file, data_dir=data_dir, address=address, workers=workers)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    generated = prepare_data_dir(settings)
    if generated is not None:
        click.echo(
            "Generated root credentials (shown once; stored in "
            f"{settings.data_dir / 'root-credentials.json'}):\n"
            f"  AWS_ACCESS_KEY_ID={generated.access_key}\n"
            f"  AWS_SECRET_ACCESS_KEY={generated.secret_key}",
            err=True,
        )
    scheme = "https" if settings.tls_certfile else "http"
    click.echo(f"Lading S3 endpoint: {scheme}://{settings.address}", err=True)
    sys.stderr.flush()
    try:
        run(settings)
    except RuntimeError as exc:
        raise click.UsageError(str(exc)) from exc
