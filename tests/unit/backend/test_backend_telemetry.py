"""Traces and logs: GenAI spans, log/trace correlation, running with an unreachable collector."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from sample_backend.telemetry.logs import configure_logging
from tests.support.servers import free_port
from tests.unit.backend.helpers import Backend, parse_sse, run_body

ROOT = Path(__file__).resolve().parents[3]


def test_run_is_one_trace_with_genai_spans(backend: Backend, spans: InMemorySpanExporter) -> None:
    status, _, _ = backend.run("weather in Paris? ask research about it")
    assert status == 200
    finished = {s.name: s for s in spans.get_finished_spans()}
    run = finished["invoke_agent realtime-agent"]
    assert run.attributes is not None
    assert run.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert run.attributes["gen_ai.agent.name"] == "realtime-agent"

    chats = [s for s in spans.get_finished_spans() if s.name == "chat gpt-4o-mini"]
    assert len(chats) == 2
    for chat in chats:
        assert chat.kind == SpanKind.CLIENT and chat.attributes is not None
        assert chat.attributes["gen_ai.operation.name"] == "chat"
        assert chat.attributes["gen_ai.request.model"] == "gpt-4o-mini"
        assert int(str(chat.attributes["gen_ai.usage.input_tokens"])) > 0
        assert int(str(chat.attributes["gen_ai.usage.output_tokens"])) > 0
        assert chat.parent is not None and chat.parent.span_id == run.context.span_id

    tool = finished["execute_tool weather"]
    assert tool.attributes is not None and tool.attributes["gen_ai.tool.name"] == "weather"
    peer = finished["invoke_agent research-agent"]
    assert peer.kind == SpanKind.CLIENT and peer.attributes is not None
    assert peer.attributes["gen_ai.agent.name"] == "research-agent"
    traces = {s.context.trace_id for s in (run, tool, peer, *chats)}
    assert len(traces) == 1, "the whole run is one trace"
    # The server span ends just after the last byte went out: wait for it.
    deadline = time.monotonic() + 5
    while not any(s.name == "POST /ag-ui/events" for s in spans.get_finished_spans()):
        assert time.monotonic() < deadline, "no server span within 5 s"
        time.sleep(0.02)
    server = next(s for s in spans.get_finished_spans() if s.name == "POST /ag-ui/events")
    assert server.context.trace_id == run.context.trace_id
    assert run.parent is not None and run.parent.span_id == server.context.span_id


def test_exemplar_points_at_the_run_trace(backend: Backend, spans: InMemorySpanExporter) -> None:
    backend.run("hello")
    run = next(s for s in spans.get_finished_spans() if s.name == "invoke_agent realtime-agent")
    text = backend.metrics_text(openmetrics=True)
    exemplars = re.findall(
        r"^http_server_request_duration_seconds_bucket\{[^}]*/ag-ui/events[^}]*\}.*"
        r'# \{trace_id="([0-9a-f]{32})"\}',
        text,
        re.M,
    )
    assert format(run.context.trace_id, "032x") in exemplars


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The JSON log lines ``configure_logging`` writes, collected instead of printed."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("backend-test")
    stream = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    yield stream
    root.handlers[:], level = saved
    root.setLevel(level)


def test_log_lines_carry_the_trace_and_span_of_the_active_span(
    backend: Backend, spans: InMemorySpanExporter, json_logs: io.StringIO
) -> None:
    backend.run("what is the weather in Lima?")
    out = json_logs.getvalue()
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    audit = next(line for line in lines if line.get("event") == "MCP_TOOL_INVOKE_ATTEMPT")
    tool_span = next(s for s in spans.get_finished_spans() if s.name == "execute_tool weather")
    assert audit["trace_id"] == format(tool_span.context.trace_id, "032x")
    assert audit["span_id"] == format(tool_span.context.span_id, "016x")
    for key in ("timestamp", "level", "logger", "message", "service_name"):
        assert key in audit
    assert audit["logger"] == "audit" and audit["service_name"] == "backend-test"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", audit["timestamp"])
    auth = next(line for line in lines if line.get("event") == "AUTH_GATEWAY_VALIDATION")
    assert re.fullmatch(r"[0-9a-f]{32}", auth["trace_id"]), "the gateway check runs inside the server span"


def _env(upstreams: str, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "BACKEND_"))}
    env.update(
        BACKEND_PORT=str(port),
        BACKEND_INSTANCE_NAME="backend-9",
        BACKEND_LLM_BASE_URL=f"{upstreams}/v1",
        BACKEND_TOOLS_BASE_URL=f"{upstreams}/tools",
        BACKEND_A2A_AGENTS=json.dumps({"research-agent": f"{upstreams}/a2a/research-agent"}),
        **extra,
    )
    return env


def test_instrumented_process_serves_runs_with_no_collector_reachable(upstreams: str) -> None:
    port, closed = free_port(), free_port()
    env = _env(
        upstreams,
        port,
        OTEL_SERVICE_NAME="backend-otel",
        OTEL_TRACES_EXPORTER="otlp",
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{closed}",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
        OTEL_BSP_SCHEDULE_DELAY="100",
    )
    instrument = str(Path(sys.executable).parent / "opentelemetry-instrument")
    proc = subprocess.Popen(
        [instrument, sys.executable, "-m", "sample_backend.app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, f"backend exited: {proc.stdout.read() if proc.stdout else ''}"
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "instrumented backend did not answer /health within 30 s"
            time.sleep(0.1)
        headers = {"Authorization": "Bearer dev-user-token"}
        for _ in range(3):  # several batches, each export failing against the closed port
            r = httpx.post(
                f"{base}/ag-ui/events", json=run_body("weather in Oslo?"), headers=headers, timeout=20
            )
            assert r.status_code == 200
            assert parse_sse(r.text)[-1]["type"] == "RUN_FINISHED"
            time.sleep(0.2)
        assert httpx.get(f"{base}/readiness", timeout=5).status_code == 200
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    records = [json.loads(line) for line in out.splitlines() if line.startswith('{"timestamp"')]
    assert records and all(r["service_name"] == "backend-otel" for r in records)
    traced = [r for r in records if r.get("event") == "MCP_TOOL_INVOKE_ATTEMPT"]
    assert traced and all(re.fullmatch(r"[0-9a-f]{32}", r["trace_id"]) for r in traced)


def test_bad_configuration_stops_the_process_naming_the_key(upstreams: str) -> None:
    env = _env(upstreams, free_port(), BACKEND_DB_POOL_SIZE="zero")
    result = subprocess.run(
        [sys.executable, "-m", "sample_backend.app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "BACKEND_DB_POOL_SIZE" in result.stderr
