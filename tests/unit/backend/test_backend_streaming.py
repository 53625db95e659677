"""Real-server streaming behaviour: disconnects, concurrency, two instances side by side."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.unit.backend.helpers import Backend, run_body


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(0.02)


def test_client_disconnect_mid_stream_releases_the_stream_and_cancels_the_run(backend: Backend) -> None:
    backend.fault("slow_responses", seconds=30)
    assert backend.value("agent_sse_streams_active") == 0
    with httpx.stream(
        "POST", f"{backend.url}/ag-ui/events", json=run_body("hello"), headers=backend.auth(), timeout=10
    ) as r:
        lines = r.iter_lines()  # kept referenced: dropping it would close the connection
        assert '"RUN_STARTED"' in next(lines)
        assert backend.value("agent_sse_streams_active") == 1
    # Leaving the block closed the connection with the run still sleeping.
    _wait_for(lambda: backend.value("agent_sse_streams_active") == 0, "active streams back to 0")
    _wait_for(lambda: backend.value("agent_runs_total", outcome="cancelled") == 1, "run cancelled")
    assert backend.value("agent_runs_total", outcome="error") == 0
    count = backend.value("http_server_request_duration_seconds_count", http_route="/ag-ui/events")
    assert count == 1, "the abandoned request is still measured once"
    assert backend.value("http_server_request_duration_seconds_sum", http_route="/ag-ui/events") < 10


def test_stream_duration_covers_the_whole_stream(backend: Backend) -> None:
    backend.fault("llm_latency", seconds=0.25)
    backend.run("hello")
    # Both model calls happen after the response headers went out.
    assert backend.value("http_server_request_duration_seconds_sum", http_route="/ag-ui/events") >= 0.5


def test_concurrent_runs_all_finish(backend: Backend) -> None:
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: backend.run(f"weather in Paris? #{i}"), range(16)))
    assert all(status == 200 and events[-1]["type"] == "RUN_FINISHED" for status, events, _ in results)
    assert backend.value("agent_runs_total", outcome="finished") == 16
    assert backend.value("agent_sse_streams_active") == 0
    assert backend.value("agent_db_pool_connections_in_use") == 0


def test_two_instances_run_side_by_side_with_separate_state(make_backend: Callable[..., Backend]) -> None:
    one = make_backend(instance_name="backend-1")
    two = make_backend(instance_name="backend-2")
    assert one.url != two.url
    one.fault("db_down")
    assert one.run("hello")[0] == 503
    assert two.run("hello")[0] == 200
    assert one.value("agent_fault_active", fault="db_down") == 1
    assert two.value("agent_fault_active", fault="db_down") == 0
    assert two.value("agent_runs_total", outcome="finished") == 1
    assert one.value("agent_runs_total") == 0
    assert two.http.get(f"{two.url}/health").json() == {"status": "ok", "instance": "backend-2"}
    assert two.value("agent_build_info", service_name="backend-2") == 1
