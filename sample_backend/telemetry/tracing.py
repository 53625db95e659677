"""Tracing set-up that works with and without ``opentelemetry-instrument``.

Under ``opentelemetry-instrument`` the distro has already installed an SDK
``TracerProvider`` (with the exporters the ``OTEL_*`` variables ask for) and patched
FastAPI, HTTPX and OpenAI before the app is imported; :func:`ensure_tracing` then
changes nothing but the MeterProvider those instrumentations record into (below). Run
plainly (``python -m sample_backend.app``, in-process tests) it installs an always-on
SDK provider without an exporter and the same three instrumentations, so trace ids,
exemplars and log correlation behave the same way in both cases. Nothing is exported
unless the ``OTEL_*`` variables say so.

The backend's metrics are prometheus-client's. With ``OTEL_METRICS_EXPORTER=none`` the
OpenTelemetry MeterProvider has no reader, so the instrumentations get a no-op one
instead of aggregating histograms nobody collects.

LLM calls carry no HTTP client span of their own: their ``chat {model}`` span is the
client span, and the HTTP span under it only repeated it. :func:`untraced_http` marks
such calls and :func:`inject_untraced` (an httpx request hook) still sends them with
the trace context, so the upstream joins the trace under the ``chat`` span.

:func:`exemplar` gives the ``{"trace_id": ...}`` exemplar of the current span for a
histogram observation.

Usage::

    ensure_tracing("backend-1")
    hist.labels(...).observe(0.2, exemplar())
    http = httpx.AsyncClient(event_hooks={"request": [inject_untraced]})
    with untraced_http():
        await http.get(url)  # no HTTP span, traceparent of the current span
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from typing import Any

import httpx
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.utils import is_http_instrumentation_enabled, suppress_http_instrumentation
from opentelemetry.metrics import MeterProvider, NoOpMeterProvider

__all__ = [
    "current_trace_id",
    "ensure_tracing",
    "exemplar",
    "inject_untraced",
    "instrument_app",
    "openai_instrumented",
    "untraced_http",
]

_log = logging.getLogger(__name__)
_lock = threading.Lock()
_clients_done = False


def _sdk_provider_installed() -> bool:
    from opentelemetry.sdk.trace import TracerProvider

    return isinstance(trace.get_tracer_provider(), TracerProvider)


def ensure_tracing(service_name: str) -> None:
    """Install an SDK provider and the client instrumentations unless already done.

    Idempotent and safe to call from several apps in one process: the global provider
    can be set once only, so a second call finds it and leaves it alone.
    """
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return
    with _lock:
        if not _sdk_provider_installed():
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.sampling import ALWAYS_ON

            resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name)})
            trace.set_tracer_provider(TracerProvider(resource=resource, sampler=ALWAYS_ON))
            _log.debug("installed an in-process tracer provider (no exporter)")
        _instrument_clients()


def _unread_meter_provider() -> MeterProvider | None:
    """A no-op MeterProvider when no OTel metric exporter is configured, else None (the global).

    Under opentelemetry-instrument, ``OTEL_METRICS_EXPORTER=none`` still installs an SDK
    MeterProvider, only without a reader: every request would aggregate HTTP, GenAI and
    active-request instruments for nobody. (Unset, the distro defaults it to otlp.)
    """
    exporter = os.environ.get("OTEL_METRICS_EXPORTER", "").strip().lower()
    return NoOpMeterProvider() if exporter in ("", "none") else None


def _instrument_clients() -> None:
    # The instrumentors are process-wide singletons: once per process. Under
    # opentelemetry-instrument they are already on, with the global MeterProvider; they
    # are instrumented again only when that provider has no reader.
    global _clients_done
    if _clients_done:
        return
    _clients_done = True
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    instrumentors: list[Any] = [HTTPXClientInstrumentor()]
    try:
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

        instrumentors.append(OpenAIInstrumentor())  # type: ignore[no-untyped-call]
        _name_genai_error_types()
    except ImportError as exc:
        # An openai-v2 release that does not match the installed opentelemetry-util-genai
        # fails to import; the LLM client then writes its own `chat {model}` spans.
        _log.debug("OpenAI instrumentation unavailable: %s", exc)
    meter_provider = _unread_meter_provider()
    for instrumentor in instrumentors:
        if instrumentor.is_instrumented_by_opentelemetry:
            if meter_provider is None:
                continue
            instrumentor.uninstrument()
        instrumentor.instrument(meter_provider=meter_provider)


def _name_genai_error_types() -> None:
    """Have a failed GenAI invocation's ``error.type`` name the exception type, as a string.

    openai-v2 2.4b0 fails a chat invocation with ``Error(type=<the exception class>)``
    where opentelemetry-util-genai 1.1b0 takes the type's name: the span then carries
    ``error.type="<class 'openai.InternalServerError'>"`` and every failed call logs a
    warning. The class becomes its qualified name, as util-genai names an exception's type.
    """
    from opentelemetry.util.genai._invocation import GenAIInvocation
    from opentelemetry.util.genai.types import Error

    original = GenAIInvocation.fail

    def fail(self: GenAIInvocation, error: Error | BaseException) -> None:
        cls: Any = getattr(error, "type", None)
        if isinstance(error, Error) and isinstance(cls, type):
            name = (
                cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
            )
            error = dataclasses.replace(error, type=name)
        original(self, error)

    GenAIInvocation.fail = fail  # type: ignore[method-assign]


def openai_instrumented() -> bool:
    """True when the OpenAI instrumentation wraps the async chat client (it writes the spans).

    openai's own decorators set ``__wrapped__`` too, so the test is for wrapt's proxy,
    which is what the instrumentation installs.
    """
    from openai.resources.chat.completions import AsyncCompletions

    return type(AsyncCompletions.__dict__.get("create")).__name__ == "FunctionWrapper"


def instrument_app(app: Any) -> None:
    """Give ``app`` server spans: one per request, none per SSE event.

    opentelemetry-instrument has already instrumented every FastAPI app with the
    defaults, which add an ``http send`` span for each event a stream sends — dozens per
    run. The app is re-instrumented without those and without the probe and scrape
    endpoints, which are not worth a trace each, and without OTel server metrics when
    no reader collects them (the RED metrics are prometheus-client's).
    """
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    if getattr(app, "_is_instrumented_by_opentelemetry", False):
        FastAPIInstrumentor.uninstrument_app(app)
        # uninstrument_app builds the middleware stack; drop it so the next request
        # builds it again with the instrumentation below.
        app.middleware_stack = None
    FastAPIInstrumentor.instrument_app(
        app,
        excluded_urls="/metrics,/health,/readiness",
        exclude_spans=["receive", "send"],
        meter_provider=_unread_meter_provider(),
    )


# HTTP requests made inside ``with untraced_http():`` get no HTTP client span: the
# caller's span stands for them. The instrumentation's own switch, used as it is.
untraced_http = suppress_http_instrumentation


async def inject_untraced(request: httpx.Request) -> None:
    """httpx request hook: the trace context for requests :func:`untraced_http` left unspanned.

    Traced requests get it from the HTTPX instrumentation, which injects its own span.
    """
    if not is_http_instrumentation_enabled():
        propagate.inject(request.headers)


def current_trace_id() -> str | None:
    """The current span's trace id as 32 lower-case hex digits, if it is sampled."""
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid or not ctx.trace_flags.sampled:
        return None
    return format(ctx.trace_id, "032x")


def exemplar() -> dict[str, str] | None:
    """The exemplar for an observation made now: the sampled trace it belongs to."""
    trace_id = current_trace_id()
    return {"trace_id": trace_id} if trace_id else None
