"""``python -m sample_backend.app``: serve the backend on BACKEND_HOST:BACKEND_PORT.

Logs are JSON on stdout from the first line; a bad ``BACKEND_*`` value stops the
process with exit status 2 and a message naming the key.
"""

from __future__ import annotations

import gc
import sys

import uvicorn

from sample_backend.app.main import create_app, service_name
from sample_backend.app.settings import SettingsError, load_settings
from sample_backend.telemetry.logs import configure_logging


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure_logging(service_name(settings), settings.log_level)
    app = create_app(settings)
    # Everything built so far (modules, the app, the instrumentations) lives as long as the
    # process: moved out of the collector's generations, it is not traversed again by every
    # full collection, which otherwise costs each request a share of walking >100k objects.
    gc.collect()
    gc.freeze()
    # log_config=None keeps the JSON logging configured above; the access log would
    # duplicate what the RED metrics and the server spans already record per request.
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
