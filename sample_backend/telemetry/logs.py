"""JSON logs on stdout for every process of the sample backend.

Each record carries ``timestamp``, ``level``, ``logger``, ``message``, ``service_name``
and, inside a span, the ``trace_id`` / ``span_id`` of the active OpenTelemetry span
(lower-case hex, the form Tempo and Grafana expect), so Loki can link a log line to
its trace. Audit events are ordinary records with an ``event`` field.

Usage::

    configure_logging("sample-backend")
    audit_logger().info("token validated", extra={"event": "AUTH_GATEWAY_VALIDATION", "outcome": "success"})
"""

from __future__ import annotations

import logging
import sys
import time

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter

__all__ = ["AUDIT_LOGGER", "audit_logger", "configure_logging"]

AUDIT_LOGGER = "audit"


class _TraceContextFilter(logging.Filter):
    """Adds the active span's ids and the service name to every record."""

    def __init__(self, service_name: str) -> None:
        super().__init__()
        self.service_name = service_name

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = trace.get_current_span().get_span_context()
        # An invalid context means "no span": leave the fields empty rather than
        # writing all-zero ids that would link to a trace that does not exist.
        record.trace_id = format(ctx.trace_id, "032x") if ctx.is_valid else ""
        record.span_id = format(ctx.span_id, "016x") if ctx.is_valid else ""
        record.service_name = self.service_name
        return True


class _Formatter(JsonFormatter):
    """JSON formatter with RFC 3339 UTC timestamps to the millisecond.

    Second resolution cannot order the records of one request, and Loki sorts lines
    that share a timestamp arbitrarily.
    """

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"


def configure_logging(service_name: str, level: str = "INFO") -> None:
    """Send every logger's records to stdout as one JSON object per line."""
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(_TraceContextFilter(service_name))
    handler.setFormatter(
        _Formatter(
            "{asctime}{levelname}{name}{message}{trace_id}{span_id}{service_name}",
            style="{",
            rename_fields={"asctime": "timestamp", "levelname": "level", "name": "logger"},
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn installs its own handlers; route its records through ours instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True


def audit_logger() -> logging.Logger:
    """The logger audit events go to (``logger`` field ``audit`` in the JSON)."""
    return logging.getLogger(AUDIT_LOGGER)
