"""``python -m stack.receiver``: serve the receiver with uvicorn, logging JSON lines like
every other process of the bundle (so Loki parses them the same way)."""

from __future__ import annotations

import sys

import uvicorn
from pydantic import ValidationError

from sample_backend.telemetry.logs import configure_logging
from stack.receiver.app import create_app
from stack.receiver.settings import ReceiverSettings


def main() -> int:
    try:
        settings = ReceiverSettings()
    except ValidationError as exc:
        bad = "; ".join(f"RECEIVER_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        print(f"invalid receiver configuration: {bad}", file=sys.stderr)
        return 2
    configure_logging("receiver", settings.log_level)
    # log_config=None keeps the JSON logging configured above.
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
