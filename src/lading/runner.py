"""Start the HTTP server(s) for resolved settings: uvicorn (one or N processes) or granian."""

from __future__ import annotations

import json
import os
from typing import Any

from lading.app import SETTINGS_ENV
from lading.settings import Settings

TARGET = "lading.app:create_app_from_environment"


def run_uvicorn(settings: Settings) -> None:
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


def run_granian(settings: Settings) -> None:
    try:
        from granian import Granian
        from granian.constants import HTTPModes, Interfaces, Loops
    except ImportError as exc:
        raise RuntimeError("server = granian needs: pip install 'lading[granian]'") from exc
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


def run(settings: Settings) -> None:
    """Serve until stopped; worker processes read the settings from the environment."""
    dumped = settings.model_dump(mode="json")
    for secret in ("root_access_key", "root_secret_key"):
        value = getattr(settings, secret)
        dumped[secret] = value.get_secret_value() if value is not None else None
    if settings.smtp.password is not None:  # the workers mail share notifications
        dumped["smtp"]["password"] = settings.smtp.password.get_secret_value()
    os.environ[SETTINGS_ENV] = json.dumps(dumped)
    if settings.server == "granian":
        run_granian(settings)
    else:
        run_uvicorn(settings)
