"""Entry point: ``python -m sample_backend.upstreams`` (settings from ``UPSTREAMS_*``)."""

from __future__ import annotations

import sys

import uvicorn

from sample_backend.telemetry.logs import configure_logging
from sample_backend.upstreams.app import create_app
from sample_backend.upstreams.settings import SettingsError, load_settings


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure_logging("upstreams", settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        # The process is the fast side of every hop; keep-alive matches what clients pool.
        timeout_keep_alive=30,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
