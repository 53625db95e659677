"""FaultRegistry: validation messages, defaults, roll matching, gauge and audit side effects."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from sample_backend.faults import FAULTS, FaultError, FaultRegistry
from sample_backend.telemetry.metrics import BackendMetrics


@pytest.fixture
def metrics() -> BackendMetrics:
    return BackendMetrics(CollectorRegistry())


@pytest.fixture
def registry(metrics: BackendMetrics) -> Any:
    reg = FaultRegistry(metrics)
    yield reg
    reg.clear_all()
    reg.close()


def gauge(metrics: BackendMetrics, fault: str) -> float | None:
    return metrics.registry.get_sample_value("agent_fault_active", {"fault": fault})


def test_every_fault_gauge_starts_at_zero(metrics: BackendMetrics, registry: FaultRegistry) -> None:
    assert {f: gauge(metrics, f) for f in FAULTS} == dict.fromkeys(FAULTS, 0.0)


def test_catalog_holds_every_contract_fault_and_mode() -> None:
    expected = {
        "http_5xx", "slow_responses", "llm_errors", "llm_latency", "llm_outage", "tool_errors",
        "tool_latency", "tool_credentials", "a2a_errors", "a2a_latency", "db_down", "db_pool_saturation",
        "db_storage_fill", "cache_degraded", "cpu_burn", "memory_pressure", "token_budget_burn",
        "readiness_fail", "auth_failure_spike", "guardrail_attack", "forbidden_admin_tool",
    }  # fmt: skip
    assert set(FAULTS) == expected
    traffic = {n for n, s in FAULTS.items() if s.kind == "traffic"}
    assert traffic == {"auth_failure_spike", "guardrail_attack", "forbidden_admin_tool"}


def test_set_fills_defaults_and_roll_matches(registry: FaultRegistry) -> None:
    assert registry.roll("tool_errors", tool="weather") is None
    params = registry.set("tool_errors", {"tool": "weather"})
    assert params == {"tool": "weather", "rate": 1.0}
    assert registry.active("tool_errors")
    assert registry.params("tool_errors") == params
    assert registry.roll("tool_errors", tool="weather") == params
    assert registry.roll("tool_errors", tool="calculator") is None


def test_wildcard_matches_every_value(registry: FaultRegistry) -> None:
    registry.set("a2a_latency", {"seconds": 2})
    assert registry.roll("a2a_latency", agent="billing-agent") == {"agent": "*", "seconds": 2.0}


def test_tool_credentials_defaults_to_the_crm_tool(registry: FaultRegistry) -> None:
    assert registry.set("tool_credentials", {}) == {"tool": "crm_lookup"}
    assert registry.roll("tool_credentials", tool="crm_lookup") == {"tool": "crm_lookup"}
    assert registry.roll("tool_credentials", tool="weather") is None
    entry = next(f for f in registry.snapshot() if f["name"] == "tool_credentials")
    assert entry["parameters"]["tool"]["enum"] == ["crm_lookup"]


def test_rate_is_a_probability(registry: FaultRegistry) -> None:
    registry.set("llm_errors", {"rate": 0.0})
    assert all(registry.roll("llm_errors") is None for _ in range(200))
    registry.set("llm_errors", {"rate": 0.5})
    hits = sum(registry.roll("llm_errors") is not None for _ in range(2000))
    assert 800 < hits < 1200


def test_traffic_rate_is_not_a_probability(registry: FaultRegistry) -> None:
    registry.set("guardrail_attack", {"rate": 0.5})
    assert all(registry.roll("guardrail_attack") == {"rate": 0.5} for _ in range(50))


def test_returned_params_are_copies(registry: FaultRegistry) -> None:
    registry.set("http_5xx", {})
    got = registry.roll("http_5xx")
    assert got is not None
    got["rate"] = 0.0
    assert registry.params("http_5xx") == {"rate": 1.0}


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("nope", {}, "unknown fault 'nope'"),
        ("http_5xx", {"ratio": 1}, "unknown parameter(s) for http_5xx: ratio; valid: rate"),
        ("db_down", {"x": 1}, "unknown parameter(s) for db_down: x; valid: none"),
        ("http_5xx", {"rate": "1"}, "http_5xx.rate must be a number, got str"),
        ("http_5xx", {"rate": True}, "http_5xx.rate must be a number, got bool"),
        ("http_5xx", {"rate": 1.5}, "http_5xx.rate must be in [0, 1]; got 1.5"),
        ("http_5xx", {"rate": -0.1}, "http_5xx.rate must be in [0, 1]; got -0.1"),
        ("slow_responses", {"seconds": -1}, "slow_responses.seconds must be in [0, 600]; got -1"),
        ("slow_responses", {"seconds": 601}, "slow_responses.seconds must be in [0, 600]; got 601"),
        ("slow_responses", {"seconds": float("nan")}, "slow_responses.seconds must be finite"),
        ("memory_pressure", {"bytes": 1.5}, "memory_pressure.bytes must be an integer, got 1.5"),
        (
            "memory_pressure",
            {"bytes": 2**31 + 1},
            "memory_pressure.bytes must be in [0, 2147483648]; got 2147483649",
        ),
        ("cpu_burn", {"cores": 0}, "cpu_burn.cores must be in (0, 4]; got 0"),
        ("cpu_burn", {"cores": 5}, "cpu_burn.cores must be in (0, 4]; got 5"),
        ("tool_errors", {"tool": "hammer"}, "tool_errors.tool must be one of weather, search_docs"),
        ("tool_errors", {"tool": 3}, "tool_errors.tool must be a string, got int"),
        ("tool_credentials", {"tool": "weather"}, "tool_credentials.tool must be one of crm_lookup; got"),
        ("tool_credentials", {"tool": "*"}, "tool_credentials.tool must be one of crm_lookup; got '*'"),
        ("a2a_errors", {"agent": "x"}, "a2a_errors.agent must be one of research-agent, billing-agent, *"),
        ("a2a_errors", {"mode": "dns"}, "a2a_errors.mode must be one of http, network; got 'dns'"),
        ("auth_failure_spike", {"rate": 0}, "auth_failure_spike.rate must be in (0, 200]; got 0"),
        ("http_5xx", [1], "parameters for http_5xx must be a JSON object, got list"),
    ],
)
def test_bad_input_names_what_was_wrong(
    registry: FaultRegistry, name: str, params: Any, message: str
) -> None:
    with pytest.raises(FaultError) as info:
        registry.set(name, params)
    assert message in str(info.value)
    assert {f["name"] for f in info.value.catalog} == set(FAULTS)
    assert not registry.active(name)


def test_clear_unknown_fault_is_an_error(registry: FaultRegistry) -> None:
    with pytest.raises(FaultError, match="unknown fault 'nope'"):
        registry.clear("nope")


def test_changes_set_gauge_and_write_audit_records(
    metrics: BackendMetrics, registry: FaultRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="audit")
    registry.set("llm_latency", {"seconds": 2.5})
    assert gauge(metrics, "llm_latency") == 1.0
    registry.set("db_down", {})
    registry.clear("llm_latency")
    registry.clear("llm_latency")  # already off: no change, no record
    assert gauge(metrics, "llm_latency") == 0.0
    registry.clear_all()
    assert gauge(metrics, "db_down") == 0.0

    records = [r for r in caplog.records if r.name == "audit"]
    seen = [(r.event, r.fault, r.active, r.params) for r in records]  # type: ignore[attr-defined]
    assert seen == [
        ("FAULT_CHANGED", "llm_latency", True, {"seconds": 2.5}),
        ("FAULT_CHANGED", "db_down", True, {}),
        ("FAULT_CHANGED", "llm_latency", False, {}),
        ("FAULT_CHANGED", "db_down", False, {}),
    ]
    assert metrics.registry.get_sample_value("agent_audit_events_total", {"event": "FAULT_CHANGED"}) == 4


def test_snapshot_shape(registry: FaultRegistry) -> None:
    registry.set("cache_degraded", {"miss_rate": 0.5})
    snap = {f["name"]: f for f in registry.snapshot()}
    entry = snap["cache_degraded"]
    assert entry["kind"] == "fault"
    assert entry["active"] is True
    assert entry["params"] == {"miss_rate": 0.5, "seconds": 0.05}
    assert entry["parameters"]["seconds"] == {
        "type": "number",
        "default": 0.05,
        "description": "Seconds added to each cache operation.",
        "minimum": 0.0,
        "maximum": 600.0,
    }
    assert entry["description"]
    assert snap["db_down"] | {"description": ""} == {
        "name": "db_down",
        "kind": "fault",
        "description": "",
        "parameters": {},
        "active": False,
        "params": {},
    }
    assert snap["guardrail_attack"]["kind"] == "traffic"


def test_registry_without_metrics_works() -> None:
    reg = FaultRegistry()
    reg.set("readiness_fail", {})
    assert reg.active("readiness_fail")
    reg.clear_all()
    assert not reg.active("readiness_fail")
