"""Trace context on the wire and span hygiene: what each upstream call carries, which
spans write the GenAI attributes, and the no-op MeterProvider when no reader exists."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from sample_backend.app import create_app
from sample_backend.telemetry import tracing
from sample_backend.upstreams.app import create_app as create_upstreams
from sample_backend.upstreams.settings import UpstreamsSettings
from tests.support.servers import serve
from tests.unit.backend.conftest import ADMIN, USER, backend_settings
from tests.unit.backend.helpers import Backend

Seen = list[tuple[str, str]]


@pytest.fixture
def recording_upstreams() -> Iterator[tuple[str, Seen]]:
    """The simulated upstreams behind a recorder of each request's path and traceparent."""
    seen: Seen = []
    inner = create_upstreams(
        UpstreamsSettings(
            port=0,
            llm_latency_seconds=0,
            llm_token_interval_seconds=0,
            tool_latency_seconds=0,
            a2a_latency_seconds=0,
        )
    )

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            seen.append((scope["path"], headers.get(b"traceparent", b"").decode()))
        await inner(scope, receive, send)

    with serve(app) as url:
        yield url, seen


@pytest.fixture
def traced_backend(recording_upstreams: tuple[str, Seen]) -> Iterator[Backend]:
    app = create_app(backend_settings(recording_upstreams[0]))
    with serve(app) as url:
        handle = Backend(url=url, app=app, user_token=USER, admin_token=ADMIN)
        yield handle
        handle.http.close()


def _parent_span_id(traceparent: str) -> int:
    _version, _trace, parent, _flags = traceparent.split("-")
    return int(parent, 16)


def _named(spans: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in spans.get_finished_spans() if s.name == name]


def test_llm_requests_carry_the_chat_span_and_get_no_http_span_of_their_own(
    traced_backend: Backend, recording_upstreams: tuple[str, Seen], spans: InMemorySpanExporter
) -> None:
    status, _, _ = traced_backend.run("weather in Paris?")
    assert status == 200
    seen = recording_upstreams[1]
    chats = _named(spans, "chat gpt-4o-mini")
    assert len(chats) == 2
    llm_parents = [_parent_span_id(tp) for path, tp in seen if path.endswith("/chat/completions")]
    assert sorted(llm_parents) == sorted(c.context.span_id for c in chats)
    http_urls = [
        str((s.attributes or {}).get("http.url", (s.attributes or {}).get("url.full", "")))
        for s in spans.get_finished_spans()
        if s.kind == SpanKind.CLIENT and not s.name.startswith(("chat", "invoke_agent"))
    ]
    assert not any("/chat/completions" in url for url in http_urls), "the chat span is the client span"


def test_tool_and_peer_requests_keep_their_http_spans_and_propagate_them(
    traced_backend: Backend, recording_upstreams: tuple[str, Seen], spans: InMemorySpanExporter
) -> None:
    status, _, _ = traced_backend.run("weather in Paris? ask research about it")
    assert status == 200
    seen = dict(recording_upstreams[1])
    http_spans = {
        s.context.span_id: s
        for s in spans.get_finished_spans()
        if s.kind == SpanKind.CLIENT and s.name in ("GET", "POST")
    }
    tool = _named(spans, "execute_tool weather")[0]
    peer = _named(spans, "invoke_agent research-agent")[0]
    for path, parent in (("/tools/weather", tool), ("/a2a/research-agent", peer)):
        carried = http_spans[_parent_span_id(seen[path])]
        assert carried.parent is not None and carried.parent.span_id == parent.context.span_id
        assert carried.context.trace_id == parent.context.trace_id


def test_chat_response_attributes_stay_on_the_chat_spans(
    traced_backend: Backend, spans: InMemorySpanExporter
) -> None:
    traced_backend.run("hello")
    run = _named(spans, "invoke_agent realtime-agent")[0]
    assert run.attributes is not None
    for key in ("gen_ai.response.id", "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"):
        assert key not in run.attributes
    for chat in _named(spans, "chat gpt-4o-mini"):
        assert chat.attributes is not None and "gen_ai.response.id" in chat.attributes


@pytest.mark.parametrize(
    ("exporter", "no_op"), [("none", True), ("", True), ("otlp", False), ("prometheus", False)]
)
def test_instrumentations_get_a_no_op_meter_provider_only_without_a_metric_exporter(
    monkeypatch: pytest.MonkeyPatch, exporter: str, no_op: bool
) -> None:
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", exporter)
    assert isinstance(tracing._unread_meter_provider(), NoOpMeterProvider) is no_op


def test_a_failed_llm_call_names_its_error_type_as_a_string(
    traced_backend: Backend, spans: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    traced_backend.fault("llm_errors", rate=1.0)
    with caplog.at_level(logging.WARNING, logger="opentelemetry.attributes"):
        status, events, _ = traced_backend.run("hello")
    assert status == 200 and events[-1]["type"] == "RUN_ERROR"
    chat = _named(spans, "chat gpt-4o-mini")[0]
    assert chat.attributes is not None
    assert chat.attributes["error.type"] == "openai.InternalServerError"
    warnings = [r.getMessage() for r in caplog.records if r.name == "opentelemetry.attributes"]
    assert not warnings
