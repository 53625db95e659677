"""The committed dashboard JSON is exactly what the generator writes, and each dashboard
has the panels monitoring-strategy section 3 asks for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stack.dashboards import build_all, render, write_all
from stack.dashboards.__main__ import main
from tests.dashboards._queries import DASHBOARDS, UIDS, load, panels

# Panel titles each dashboard must have (strategy section 3, plus Alerts & SLO).
REQUIRED_PANELS = {
    "overview": [
        "Request rate",
        "5xx error ratio",
        "Error ratio (5xx and 401/403)",
        "Latency p95 / p99",
        "Open SSE streams",
        "Dependencies up (database, LLM)",
        "LLM error ratio",
        "CPU utilisation",
        "Memory utilisation",
    ],
    "llm-performance": [
        "LLM call rate",
        "LLM call latency p50 / p95 / p99",
        "LLM error ratio",
        "Tokens per second (input / output)",
        "Tokens in the last hour by model",
        "Estimated cost per hour by model",
    ],
    "mcp-tools": [
        "Call rate per tool",
        "Latency per tool p50",
        "Latency per tool p95",
        "Latency per tool p99",
        "Error ratio per tool",
        "Credential loading errors",
    ],
    "a2a-communication": [
        "Delegation rate per agent",
        "Delegation latency p50 / p95 / p99",
        "Error ratio per agent",
    ],
    "resource-utilization": [
        "CPU utilisation per instance",
        "Memory usage per instance",
        "Network load: HTTP requests served",
        "Instances running / configured",
        "Database pool connections in use",
        "Database storage used",
    ],
    "audit-security": [
        "Audit events by type",
        "Authentication failures",
        "RBAC denials",
        "Guardrail violations",
        "Critical errors (logs)",
    ],
    "alerts-slo": [
        "Firing alerts (Alertmanager)",
        "Availability error budget remaining (30 d)",
        "Latency error budget remaining (30 d)",
        "Availability burn rate",
        "Latency burn rate",
    ],
}
VARIABLES = {
    "mcp-tools": {"instance", "tool"},
    "a2a-communication": {"instance", "agent"},
    "alerts-slo": set(),
}


def test_committed_json_is_what_the_generator_writes() -> None:
    stale = [
        uid
        for uid, model in build_all().items()
        if load(uid) and (DASHBOARDS / f"{uid}.json").read_text() != render(model)
    ]
    assert stale == [], "run `python -m stack.dashboards` and commit the JSON"


def test_check_mode_fails_on_a_stale_file(tmp_path: Path) -> None:
    write_all(tmp_path)
    assert main(["--check", "--out", str(tmp_path)]) == 0
    (tmp_path / "overview.json").write_text("{}")
    assert main(["--check", "--out", str(tmp_path)]) == 1


def test_generation_is_deterministic() -> None:
    assert [render(m) for m in build_all().values()] == [render(m) for m in build_all().values()]


def test_exactly_the_seven_dashboards_are_provisioned() -> None:
    assert tuple(build_all()) == UIDS
    assert sorted(p.stem for p in DASHBOARDS.glob("*.json")) == sorted(UIDS)


@pytest.mark.parametrize("uid", UIDS)
def test_dashboard_has_the_strategy_panels(uid: str) -> None:
    titles = {p["title"] for p in panels(load(uid))}
    missing = [t for t in REQUIRED_PANELS[uid] if t not in titles]
    assert missing == []


@pytest.mark.parametrize("uid", UIDS)
def test_dashboard_variables(uid: str) -> None:
    names = {v["name"] for v in load(uid)["templating"].get("list", [])}
    assert names == VARIABLES.get(uid, {"instance"})


@pytest.mark.parametrize("uid", UIDS)
def test_panel_ids_are_unique_and_every_query_has_a_ref_id(uid: str) -> None:
    ids = [p["id"] for p in panels(load(uid))]
    assert len(ids) == len(set(ids))
    for p in panels(load(uid)):
        refs = [t["refId"] for t in p.get("targets", [])]
        assert all(refs) and len(refs) == len(set(refs)), p["title"]


@pytest.mark.parametrize("uid", [u for u in UIDS if u != "alerts-slo"])
def test_panels_link_to_logs_and_traces(uid: str) -> None:
    board = load(uid)
    links = [
        lk["url"]
        for p in panels(board)
        for lk in p.get("fieldConfig", {}).get("defaults", {}).get("links", [])
    ]
    logs_panels = [p for p in panels(board) if p["type"] == "logs"]
    assert any("loki" in u for u in links) or logs_panels, "no way from this dashboard to the logs"
    if uid == "audit-security":
        # Its log panels link each record's trace_id to Tempo through the Loki datasource.
        assert logs_panels
    else:
        assert any("tempo" in u for u in links), "no way from this dashboard to the traces"


def test_latency_panels_show_exemplars() -> None:
    latency = [
        (p["title"], t)
        for uid in UIDS
        for p in panels(load(uid))
        for t in p.get("targets", [])
        if p["type"] == "timeseries"
        and re.search(r"histogram_quantile\(0\.9\d?, sum by \(le", t.get("expr", ""))
    ]
    assert latency
    assert [title for title, t in latency if t.get("exemplar") is not True] == []


def test_audit_dashboard_shows_the_audit_records() -> None:
    logs = [p for p in panels(load("audit-security")) if p["type"] == "logs"]
    exprs = " ".join(t["expr"] for p in logs for t in p["targets"])
    for event in ("AUTH_GATEWAY_VALIDATION", "MCP_TOOL_INVOKE_ATTEMPT", "GUARDRAIL_VIOLATION_DETECTED"):
        assert event in exprs
