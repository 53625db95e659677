"""Every dashboard query is one the bundle can answer: datasource uids that Grafana has,
PromQL that parses and names only metrics the bundle exports (or records), LogQL over
labels Alloy sets and JSON fields the backend writes, TraceQL over attributes its spans
carry."""

from __future__ import annotations

import ast
import json
import logging
import re

import promql_parser
import pytest
import yaml
from prometheus_client import CollectorRegistry

from sample_backend.telemetry.logs import AUDIT_LOGGER, configure_logging
from sample_backend.telemetry.metrics import BackendMetrics
from tests.dashboards._queries import ROOT, UIDS, all_queries, link_queries, load, panels, queries, substitute

# Series every Prometheus, the blackbox exporter and prometheus_client's process collector have.
STACK_METRICS = {"up", "ALERTS", "ALERTS_FOR_STATE"}
STACK_PREFIXES = ("process_", "probe_", "prometheus_", "alertmanager_", "scrape_")
# Labels and structured metadata on Loki streams besides those Alloy's config sets.
LOKI_BUILTIN = {"trace_id", "span_id", "detected_level"}
# Span attributes set by instrumentation libraries rather than the backend's own code.
INSTRUMENTATION_ATTRIBUTES = {"http.route"}


def _exported_metrics() -> set[str]:
    names: set[str] = set()
    for family in BackendMetrics(CollectorRegistry()).families():
        for metric in family.describe():
            for sample in ("", "_total", "_bucket", "_count", "_sum"):
                names.add(metric.name + sample)
    return names


def _recorded_metrics() -> set[str]:
    names = set()
    for path in (ROOT / "provisioning/prometheus/rules").glob("*.yml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            names |= {r["record"] for r in group["rules"] if "record" in r}
    return names


def _metric_names(expr: str) -> list[str]:
    names: list[str] = []

    def visit(node: object) -> None:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.append(node.name)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


def _variable_queries(uid: str) -> list[str]:
    """The selector inside each `label_values(selector, label)` variable query."""
    found = []
    for v in load(uid)["templating"].get("list", []):
        m = re.fullmatch(r"label_values\((.*), *\w+\)", v["query"])
        assert m, f"{uid}: variable {v['name']} is not a label_values() query"
        found.append(m.group(1))
    return found


def test_every_datasource_uid_a_dashboard_uses_is_provisioned() -> None:
    doc = yaml.safe_load((ROOT / "provisioning/grafana/datasources/datasources.yaml").read_text())
    provisioned = {d["uid"] for d in doc["datasources"]}
    names = {d["name"] for d in doc["datasources"]}
    for uid in UIDS:
        for panel in panels(load(uid)):
            for ref in [panel.get("datasource")] + [t.get("datasource") for t in panel.get("targets", [])]:
                if ref:
                    assert ref["uid"] in provisioned, f"{uid}/{panel['title']}: datasource {ref['uid']}"
            if panel["type"] == "alertGroups":
                assert panel["options"]["alertmanager"] in names
        for v in load(uid)["templating"].get("list", []):
            assert v["datasource"]["uid"] in provisioned


@pytest.mark.parametrize("uid", UIDS)
def test_every_promql_expression_parses(uid: str) -> None:
    exprs = [q.expr for q in queries(uid) if q.datasource == "prometheus"] + _variable_queries(uid)
    assert exprs
    for expr in exprs:
        try:
            promql_parser.parse(substitute(expr))
        except (ValueError, RuntimeError) as exc:
            pytest.fail(f"{uid}: {expr!r} does not parse: {exc}")


def test_promql_uses_only_metrics_the_bundle_exports_or_records() -> None:
    known = _exported_metrics() | _recorded_metrics() | STACK_METRICS
    exprs = [q.expr for q in all_queries("prometheus")] + [e for uid in UIDS for e in _variable_queries(uid)]
    unknown = {
        name
        for expr in exprs
        for name in _metric_names(substitute(expr))
        if name not in known and not name.startswith(STACK_PREFIXES)
    }
    assert unknown == set()


def test_a_misspelt_metric_would_be_caught() -> None:
    assert _metric_names('sum(rate(agent_tool_call_totl{job="backend"}[5m]))') == ["agent_tool_call_totl"]
    assert "agent_tool_call_totl" not in _exported_metrics()


def _alloy_labels() -> set[str]:
    text = (ROOT / "provisioning/alloy/config.alloy").read_text()
    labels = set(re.findall(r'target_label\s*=\s*"([a-z_]+)"', text))
    block = re.search(r"stage\.labels \{(.*?)\n  \}", text, re.S)
    assert block
    return labels | (set(re.findall(r"^\s*([a-z_]+)\s*=", block.group(1), re.M)) - {"values"})


def _json_log_fields(capsys: pytest.CaptureFixture[str]) -> set[str]:
    """The keys of a real audit record as the backend writes it, plus every audit field name."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging("sample-backend")
        logging.getLogger(AUDIT_LOGGER).info("probe", extra={"event": "AUTH_GATEWAY_VALIDATION"})
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    return set(record) | _audit_fields()


def _audit_fields() -> set[str]:
    """Keyword names passed to audit(...) and keys of `extra={...}` anywhere in the backend."""
    fields: set[str] = set()
    for path in (ROOT / "sample_backend").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name == "audit":
                fields |= {k.arg for k in node.keywords if k.arg}
            for k in node.keywords:
                if k.arg == "extra" and isinstance(k.value, ast.Dict):
                    keys = [key.value for key in k.value.keys if isinstance(key, ast.Constant)]
                    fields |= {key for key in keys if isinstance(key, str)}
    return fields


def _logql(uid: str) -> list[str]:
    return [q.expr for q in queries(uid) if q.datasource == "loki"] + [
        q["expr"] for _, q in link_queries(uid) if "expr" in q
    ]


def _logql_everywhere() -> list[str]:
    rules = yaml.safe_load((ROOT / "provisioning/loki/rules/fake/audit.yaml").read_text())
    return [e for uid in UIDS for e in _logql(uid)] + [r["expr"] for g in rules["groups"] for r in g["rules"]]


def test_logql_stream_selectors_use_labels_alloy_sets() -> None:
    labels = _alloy_labels() | LOKI_BUILTIN
    exprs = _logql_everywhere()
    assert exprs
    for expr in exprs:
        for selector in re.findall(r"\{([^{}]*=[^{}]*)\}", re.sub(r"\$\{[^}]*\}", "X", expr)):
            for name in re.findall(r"([a-z_]+)\s*(?:=~|!~|!=|=)", selector):
                assert name in labels, f"{expr!r}: stream label {name} is never set by Alloy"


def test_logql_stream_selectors_are_accepted_by_loki() -> None:
    # Loki refuses a selector in which every matcher accepts the empty string.
    for expr in _logql_everywhere():
        text = re.sub(r"\$\{[^}]*\}", "X", substitute(expr))
        for selector in re.findall(r"\{([^{}]*=[^{}]*)\}", text):
            matchers = re.findall(r'[a-z_]+\s*(=~|!~|!=|=)\s*"([^"]*)"', selector)
            assert any(
                (op == "=" and value) or (op == "=~" and not re.fullmatch(value, ""))
                for op, value in matchers
            ), f"{expr!r}: Loki needs a matcher that excludes the empty value"


def test_logql_filters_read_fields_the_backend_logs(capsys: pytest.CaptureFixture[str]) -> None:
    fields = _json_log_fields(capsys) | _alloy_labels() | LOKI_BUILTIN
    for expr in _logql_everywhere():
        for stage in re.split(r"\s\|\s", expr)[1:]:
            m = re.match(r"([a-z_]+)\s*(?:=~|!~|!=|=|>|<)", stage.strip())
            if m:
                assert m.group(1) in fields, f"{expr!r}: filter on {m.group(1)}, a field no log record has"


def test_audit_events_named_by_queries_are_events_the_backend_writes() -> None:
    from sample_backend.app.audit import AUDIT_EVENTS

    for expr in _logql_everywhere():
        for event in re.findall(r'event="([A-Z_]+)"', expr):
            assert event in AUDIT_EVENTS


def test_traceql_attributes_are_set_by_the_backend_spans() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "sample_backend").rglob("*.py"))
    otel_service = {
        v["environment"]["OTEL_SERVICE_NAME"]
        for k, v in yaml.safe_load((ROOT / "compose.yaml").read_text())["services"].items()
        if k.startswith("backend-")
    }
    traceql = [q["query"] for uid in UIDS for _, q in link_queries(uid) if "query" in q]
    assert traceql
    for query in traceql:
        for attr in re.findall(r"span\.([a-z_.]+)\s*=", query):
            assert attr in INSTRUMENTATION_ATTRIBUTES or f'"{attr}"' in source, f"{query!r}: {attr} never set"
        for service in re.findall(r'resource\.service\.name="([^"]+)"', query):
            assert service in otel_service, f"{query!r}: no backend runs as service {service}"
