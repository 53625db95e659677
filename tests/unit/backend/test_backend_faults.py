"""Every fault acts where it would really happen and shows on its metric and readiness."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
import pytest

from tests.unit.backend.helpers import Backend, run_body, types


def _readiness(backend: Backend) -> httpx.Response:
    return backend.http.get(f"{backend.url}/readiness", timeout=10)


def _tool_result(events: list[dict[str, object]]) -> dict[str, object]:
    result = next(e for e in events if e["type"] == "TOOL_CALL_RESULT")
    return dict(json.loads(str(result["content"])))


def test_fault_gauge_follows_the_admin_api(backend: Backend) -> None:
    assert backend.value("agent_fault_active", fault="llm_errors") == 0
    backend.fault("llm_errors", rate=1.0)
    assert backend.value("agent_fault_active", fault="llm_errors") == 1
    assert backend.value("agent_audit_events_total", event="FAULT_CHANGED") == 1
    backend.http.delete(f"{backend.url}/admin/faults/llm_errors", headers=backend.auth(backend.admin_token))
    assert backend.value("agent_fault_active", fault="llm_errors") == 0


def test_fault_api_is_off_without_admin_token(make_backend: Callable[..., Backend]) -> None:
    backend = make_backend(admin_token="")
    r = backend.http.get(f"{backend.url}/admin/faults", headers=backend.auth("anything"))
    assert r.status_code == 404


def test_http_5xx_answers_500_before_streaming(backend: Backend) -> None:
    backend.fault("http_5xx", rate=1.0)
    status, events, body = backend.run("hello")
    assert status == 500 and not events
    assert json.loads(body)["error"] == "internal_error"
    assert backend.value("http_server_request_duration_seconds_count", http_response_status_code="500") == 1


def test_slow_responses_lengthen_the_run(backend: Backend) -> None:
    backend.fault("slow_responses", seconds=0.3)
    status, _, _ = backend.run("hello")
    assert status == 200
    assert backend.value("http_server_request_duration_seconds_sum", http_route="/ag-ui/events") >= 0.3


def test_llm_errors_end_the_run_with_run_error(backend: Backend) -> None:
    backend.fault("llm_errors", rate=1.0)
    status, events, _ = backend.run("hello")
    assert status == 200
    assert types(events) == ["RUN_STARTED", "STATE_SNAPSHOT", "RUN_ERROR"]
    assert events[-1]["code"] == "LLM_ERROR" and "500" in events[-1]["message"]
    assert backend.value("gen_ai_client_operation_duration_seconds_count", error_type="5xx") == 1
    assert backend.value("gen_ai_client_operation_duration_seconds_count", error_type="") == 0
    assert backend.value("agent_runs_total", outcome="error") == 1


def test_llm_latency_delays_each_call(backend: Backend) -> None:
    backend.fault("llm_latency", seconds=0.2)
    status, events, _ = backend.run("hello")
    assert status == 200 and events[-1]["type"] == "RUN_FINISHED"
    assert backend.value("gen_ai_client_operation_duration_seconds_sum", error_type="") >= 0.4


def test_llm_outage_refuses_connections_and_fails_readiness(backend: Backend) -> None:
    assert _readiness(backend).status_code == 200
    backend.fault("llm_outage")
    status, events, _ = backend.run("hello")
    assert status == 200 and events[-1]["code"] == "LLM_UNAVAILABLE"
    assert (
        backend.value("gen_ai_client_operation_duration_seconds_count", error_type="APIConnectionError") == 1
    )
    r = _readiness(backend)
    assert r.status_code == 503 and r.json()["failing"] == ["llm"]
    assert backend.value("agent_dependency_up", dependency="llm") == 0
    assert backend.value("agent_dependency_up", dependency="database") == 1


@pytest.mark.parametrize(
    ("tool", "prompt", "status"),
    [("weather", "weather in Paris?", "ERROR_HTTP"), ("calculator", "calculate 2 + 3", "ERROR_EXECUTION")],
)
def test_tool_errors_fail_the_named_tool(backend: Backend, tool: str, prompt: str, status: str) -> None:
    backend.fault("tool_errors", tool=tool, rate=1.0)
    _, events, _ = backend.run(prompt)
    assert _tool_result(events)["error"] == status
    assert events[-1]["type"] == "RUN_FINISHED", "a tool failure is reported to the model, not fatal"
    assert backend.value("agent_tool_calls_total", tool=tool, status=status) == 1


def test_tool_errors_for_another_tool_leave_this_one_alone(backend: Backend) -> None:
    backend.fault("tool_errors", tool="search_docs", rate=1.0)
    backend.run("weather in Paris?")
    assert backend.value("agent_tool_calls_total", tool="weather", status="OK") == 1


@pytest.mark.parametrize(
    ("tool", "prompt"), [("weather", "weather in Paris?"), ("calculator", "calculate 2 + 3")]
)
def test_tool_latency_slows_the_named_tool(backend: Backend, tool: str, prompt: str) -> None:
    backend.fault("tool_latency", tool=tool, seconds=0.3)
    backend.run(prompt)
    assert backend.value("agent_tool_call_duration_seconds_sum", tool=tool) >= 0.3
    assert backend.value("agent_tool_calls_total", tool=tool, status="OK") == 1


def test_tool_credentials_fail_the_credential_load(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    backend.fault("tool_credentials")
    assert backend.value("agent_fault_active", fault="tool_credentials") == 1
    _, events, _ = backend.run("look up customer 1234 in the crm and the weather in Paris")
    results = [json.loads(str(e["content"])) for e in events if e["type"] == "TOOL_CALL_RESULT"]
    assert [r.get("error") for r in results] == [None, "ERROR_CREDENTIALS"], "weather is untouched"
    assert "could not load the crm_lookup credential" in results[1]["detail"]
    assert events[-1]["type"] == "RUN_FINISHED", "a tool failure is reported to the model, not fatal"
    assert backend.value("agent_tool_calls_total", tool="crm_lookup", status="ERROR_CREDENTIALS") == 1
    assert backend.value("agent_tool_calls_total", tool="weather", status="OK") == 1
    record = next(
        r
        for r in caplog.records
        if getattr(r, "event", "") == "MCP_TOOL_INVOKE_ATTEMPT" and getattr(r, "tool", "") == "crm_lookup"
    )
    assert record.status == "ERROR_CREDENTIALS"  # type: ignore[attr-defined]

    backend.http.delete(
        f"{backend.url}/admin/faults/tool_credentials", headers=backend.auth(backend.admin_token)
    )
    backend.run("look up customer 1234 in the crm")
    assert backend.value("agent_tool_calls_total", tool="crm_lookup", status="OK") == 1


def test_tool_credentials_accepts_only_tools_with_credentials(backend: Backend) -> None:
    r = backend.http.put(
        f"{backend.url}/admin/faults/tool_credentials",
        json={"tool": "weather"},
        headers=backend.auth(backend.admin_token),
    )
    assert r.status_code == 400
    assert "must be one of crm_lookup" in r.json()["error"]
    assert backend.value("agent_fault_active", fault="tool_credentials") == 0


@pytest.mark.parametrize(("mode", "status"), [("http", "ERROR_HTTP"), ("network", "ERROR_NETWORK")])
def test_a2a_errors_by_mode(backend: Backend, mode: str, status: str) -> None:
    backend.fault("a2a_errors", agent="billing-agent", rate=1.0, mode=mode)
    _, events, _ = backend.run("ask billing about the invoice")
    assert _tool_result(events)["error"] == status
    assert backend.value("agent_a2a_delegations_total", agent="billing-agent", status=status) == 1
    assert backend.value("agent_audit_events_total", event="A2A_DELEGATION") == 1


def test_a2a_latency_slows_the_delegation(backend: Backend) -> None:
    backend.fault("a2a_latency", agent="research-agent", seconds=0.3)
    backend.run("ask research about outages")
    assert backend.value("agent_a2a_delegation_duration_seconds_sum", agent="research-agent") >= 0.3
    assert backend.value("agent_a2a_delegations_total", agent="research-agent", status="OK") == 1


def test_db_down_answers_503_and_fails_readiness(backend: Backend) -> None:
    backend.fault("db_down")
    status, events, body = backend.run("hello")
    assert status == 503 and not events
    assert json.loads(body)["error"] == "database_unavailable"
    r = _readiness(backend)
    assert r.status_code == 503 and r.json()["failing"] == ["database"]
    assert backend.value("agent_dependency_up", dependency="database") == 0


def test_db_pool_saturation_holds_connections(backend: Backend) -> None:
    assert backend.value("agent_db_pool_connections_in_use") == 0
    assert backend.value("agent_db_pool_connections_max") == 10
    backend.fault("db_pool_saturation", fraction=0.5)
    assert backend.value("agent_db_pool_connections_in_use") == 5
    backend.fault("db_pool_saturation", fraction=1.0)
    status, _, body = backend.run("hello")
    assert status == 503 and "no database connection free" in json.loads(body)["detail"]
    assert _readiness(backend).json()["failing"] == ["database"]


def test_db_storage_fill_reports_used_storage(backend: Backend) -> None:
    capacity = backend.value("agent_db_storage_capacity_bytes")
    backend.fault("db_storage_fill", fraction=0.95)
    assert backend.value("agent_db_storage_used_bytes") == pytest.approx(0.95 * capacity, rel=1e-6)


def test_cache_degraded_misses_and_slows(backend: Backend) -> None:
    body = run_body("hello")
    backend.http.post(f"{backend.url}/ag-ui/events", json=body, headers=backend.auth(), timeout=10)
    hits_before = backend.value("agent_cache_requests_total", result="hit")
    backend.fault("cache_degraded", miss_rate=1.0, seconds=0.05)
    backend.http.post(f"{backend.url}/ag-ui/events", json=body, headers=backend.auth(), timeout=10)
    assert backend.value("agent_cache_requests_total", result="hit") == hits_before
    assert backend.value("agent_cache_operation_duration_seconds_sum", operation="get") >= 0.1


def test_token_budget_burn_multiplies_reported_usage(backend: Backend) -> None:
    backend.run("hello")
    normal = backend.value("agent_llm_token_budget_used_tokens")
    assert normal > 0
    backend.fault("token_budget_burn", multiplier=1000)
    backend.run("hello")
    burnt = backend.value("agent_llm_token_budget_used_tokens") - normal
    assert burnt >= 500 * normal
    assert backend.value("agent_llm_token_budget_limit_tokens") == 2_000_000


def test_readiness_fail_names_fault(backend: Backend) -> None:
    backend.fault("readiness_fail")
    r = _readiness(backend)
    assert r.status_code == 503
    assert r.json()["status"] == "unready" and r.json()["failing"] == ["fault"]


def test_memory_pressure_grows_resident_memory(backend: Backend) -> None:
    before = backend.value("process_resident_memory_bytes")
    backend.fault("memory_pressure", bytes=64 * 1024**2)
    # On a slow machine the fill may outlast the fault API's wait for it.
    deadline = time.monotonic() + 5
    while backend.value("process_resident_memory_bytes") - before < 48 * 1024**2:
        assert time.monotonic() < deadline, "memory_pressure added less than 48 MiB of RSS in 5 s"
        time.sleep(0.05)


def test_cpu_burn_consumes_process_cpu(backend: Backend) -> None:
    import time

    before = backend.value("process_cpu_seconds_total")
    backend.fault("cpu_burn", cores=1.0)
    deadline = time.monotonic() + 5
    while backend.value("process_cpu_seconds_total") - before < 0.3:
        assert time.monotonic() < deadline, "cpu_burn never used 0.3 s of CPU within 5 s"
        time.sleep(0.05)


@pytest.mark.parametrize("mode", ["auth_failure_spike", "guardrail_attack", "forbidden_admin_tool"])
def test_traffic_modes_are_visible_but_change_nothing_server_side(backend: Backend, mode: str) -> None:
    backend.fault(mode)
    assert backend.value("agent_fault_active", fault=mode) == 1
    status, _, _ = backend.run("hello")
    assert status == 200
