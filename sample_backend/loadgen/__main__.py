"""Entry point: ``python -m sample_backend.loadgen`` (settings from ``LOADGEN_*``)."""

from __future__ import annotations

import logging
import sys

import uvicorn

from sample_backend.loadgen.app import create_app
from sample_backend.loadgen.settings import SettingsError, load_settings
from sample_backend.telemetry.logs import configure_logging


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure_logging("loadgen", settings.log_level)
    # httpx logs every request at INFO: dozens of lines a second that say nothing the
    # loadgen_runs_total counter does not.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # uvicorn turns SIGTERM/SIGINT into a lifespan shutdown, which stops the generator.
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
