"""`lading serve`: run the server."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lading.cli.options import data_options, load

if TYPE_CHECKING:
    from lading.settings import Settings


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

    from lading.app import SETTINGS_ENV, build_stores
    from lading.housekeeping import prepare

    settings = load(config_file, data_dir=data_dir, address=address, workers=workers)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    meta, blobs = build_stores(settings)
    generated = prepare(settings, meta, blobs)
    meta.engine.dispose()
    if generated is not None:
        click.echo(
            "Generated root credentials (shown once; stored in "
            f"{settings.data_dir / 'root-credentials.json'}):\n"
            f"  AWS_ACCESS_KEY_ID={generated.access_key}\n"
            f"  AWS_SECRET_ACCESS_KEY={generated.secret_key}",
            err=True,
        )
    dumped = settings.model_dump(mode="json")
    for secret in ("root_access_key", "root_secret_key"):
        value = getattr(settings, secret)
        dumped[secret] = value.get_secret_value() if value is not None else None
    os.environ[SETTINGS_ENV] = json.dumps(dumped)
    scheme = "https" if settings.tls_certfile else "http"
    click.echo(f"Lading S3 endpoint: {scheme}://{settings.address}", err=True)
    sys.stderr.flush()
    if settings.server == "granian":
        _run_granian(settings)
    else:
        _run_uvicorn(settings)


TARGET = "lading.app:create_app_from_environment"


def _run_uvicorn(settings: Settings) -> None:
    import uvicorn

    from lading.http.workers import serve_many

    config: dict[str, Any] = {
        "app": TARGET,
        "factory": True,
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "access_log": settings.log_level == "debug",
        "loop": "uvloop",
        "http": "httptools",
        "lifespan": "on",
        "timeout_keep_alive": 30,
        "server_header": False,
        "ssl_certfile": settings.tls_certfile,
        "ssl_keyfile": settings.tls_keyfile,
    }
    if settings.workers == 1:
        uvicorn.run(**config)
    else:
        serve_many(config, settings.workers)


def _run_granian(settings: Settings) -> None:
    try:
        from granian import Granian
        from granian.constants import HTTPModes, Interfaces, Loops
    except ImportError as exc:
        raise click.UsageError("server = granian needs: pip install 'lading[granian]'") from exc
    Granian(
        TARGET,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.workers,
        loop=Loops.uvloop,
        http=HTTPModes.http1,
        factory=True,
        log_access=settings.log_level == "debug",
        ssl_cert=settings.tls_certfile,
        ssl_key=settings.tls_keyfile,
    ).serve()
