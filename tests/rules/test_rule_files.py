"""The rule files load, lint clean, keep their conventions, pass their promtool unit tests, and
use only metrics the bundle exports."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import promql_parser
import pytest
from prometheus_client import CollectorRegistry

from sample_backend.telemetry.metrics import BackendMetrics
from stack.alerting import AREAS
from tests.rules._support import (
    PROMETHEUS_YML,
    RULE_TESTS_DIR,
    all_rules,
    load_yaml,
    rule_files,
    run_tool,
    walk,
)

# What the stack's own components export (Prometheus, Alertmanager, the blackbox exporter,
# prometheus_client's process collector) besides the backend's catalog.
STACK_METRICS = {
    "up",
    # Prometheus's own series of its alerts' state (AuthFailureSpike holds on it).
    "ALERTS",
    "probe_success",
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "prometheus_rule_evaluation_failures_total",
    "prometheus_notifications_errors_total",
    "prometheus_notifications_sent_total",
    "prometheus_notifications_dropped_total",
    "alertmanager_notifications_failed_total",
    "alertmanager_notifications_total",
}
RECORD_NAME = re.compile(r"^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$")


def backend_metric_names() -> set[str]:
    names: set[str] = set()
    for family in BackendMetrics(CollectorRegistry()).families():
        for metric in family.describe():
            kind = metric.type
            suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}.get(kind, ("",))
            names |= {metric.name + s for s in suffixes}
    return names


def test_one_group_per_area_file_named_after_the_area() -> None:
    assert [p.stem for p in rule_files()] == sorted(AREAS)
    for path in rule_files():
        groups = load_yaml(path)["groups"]
        assert [g["name"] for g in groups] == [path.stem], path


def test_groups_use_only_stable_features() -> None:
    for path in rule_files():
        for group in load_yaml(path)["groups"]:
            assert set(group) <= {"name", "rules", "interval"}, f"{path}: group keys {sorted(group)}"
    for path, rule in all_rules():
        # Experimental in 3.x: a rule using it fails to load without a feature flag.
        assert "double_exponential_smoothing" not in rule["expr"], f"{path}: {rule}"
        # A bucket bound is spelled as its exporter writes it ("1", "1.0", "1e+00"), and the rules
        # are meant to be copied next to other exporters: match bounds by regex only.
        assert not re.search(r'\ble\s*=\s*"', rule["expr"]), f"{path}: exact le matcher in {rule['expr']}"


def test_every_division_ignores_a_zero_denominator() -> None:
    """`a / (b > 0)`: 0/0 gives no sample instead of NaN. A literal divisor is fine."""
    for path, rule in all_rules():
        for node in walk(rule["expr"]):
            if isinstance(node, promql_parser.BinaryExpr) and str(node.op) == "/":
                rhs = node.rhs
                guarded = isinstance(rhs, promql_parser.NumberLiteral) or (
                    isinstance(rhs, promql_parser.ParenExpr)
                    and isinstance(rhs.expr, promql_parser.BinaryExpr)
                    and str(rhs.expr.op) == ">"
                    and isinstance(rhs.expr.rhs, promql_parser.NumberLiteral)
                    and rhs.expr.rhs.val == 0
                )
                assert guarded, f"{path}: unguarded division in {rule.get('record') or rule.get('alert')}"


def test_ranges_and_offsets_span_at_least_four_scrape_intervals() -> None:
    scrape = load_yaml(PROMETHEUS_YML)["global"]["scrape_interval"]
    assert scrape == "15s"
    minimum = timedelta(seconds=4 * 15)
    for path, rule in all_rules():
        for node in walk(rule["expr"]):
            if isinstance(node, promql_parser.MatrixSelector):
                assert node.range >= minimum, f"{path}: range {node.range} in {rule['expr']}"
            offset = getattr(node, "offset", None)
            if isinstance(node, promql_parser.VectorSelector) and offset:
                assert offset >= minimum, f"{path}: offset {offset} in {rule['expr']}"


def test_recording_rules_are_named_level_metric_operations() -> None:
    records = [rule["record"] for _, rule in all_rules() if "record" in rule]
    assert records, "no recording rules"
    bad = [name for name in records if not RECORD_NAME.match(name)]
    assert not bad
    assert len(records) == len(set(records)), "a recording rule is defined twice"


def test_every_metric_a_rule_reads_is_exported_or_recorded() -> None:
    exported = backend_metric_names() | STACK_METRICS
    recorded = {rule["record"] for _, rule in all_rules() if "record" in rule}
    missing = set()
    for _, rule in all_rules():
        for node in walk(rule["expr"]):
            known = exported | recorded
            if isinstance(node, promql_parser.VectorSelector) and node.name and node.name not in known:
                missing.add(node.name)
    assert not missing, f"rules read metrics nobody exports: {sorted(missing)}"


def test_rules_that_read_alert_state_name_real_alerts() -> None:
    names = {rule["alert"] for _, rule in all_rules() if "alert" in rule}
    seen = 0
    for path, rule in all_rules():
        for node in walk(rule["expr"]):
            if isinstance(node, promql_parser.VectorSelector) and node.name == "ALERTS":
                exact = {m.name: m.value for m in node.matchers.matchers if str(m.op) == "MatchOp.Equal"}
                assert exact.get("alertname") in names, f"{path}: ALERTS of an unknown alert"
                assert exact.get("alertstate") == "firing", f"{path}: hold on firing alerts only"
                seen += 1
    assert seen >= 1


def test_the_metric_check_knows_the_backend_catalog() -> None:
    """Guards the test above against passing vacuously on an empty catalog."""
    names = backend_metric_names()
    assert "agent_tool_calls_total" in names
    assert "http_server_request_duration_seconds_bucket" in names
    assert "agent_dependency_up" in names
    assert "agent_tool_calls" not in names


def test_every_rule_file_has_a_promtool_test_file() -> None:
    assert sorted(p.name for p in RULE_TESTS_DIR.glob("*_test.yml")) == [
        f"{p.stem}_test.yml" for p in rule_files()
    ]
    for test_file in RULE_TESTS_DIR.glob("*_test.yml"):
        doc = load_yaml(test_file)
        assert doc["rule_files"] == [f"../rules/{test_file.name.removesuffix('_test.yml')}.yml"]
        # The production evaluation interval, so `for` boundaries are those of production.
        assert doc["evaluation_interval"] == "15s"
        assert all(t.get("name") for t in doc["tests"]), f"{test_file}: every case needs a sentence name"


@pytest.mark.rules
def test_rules_pass_promtool_check_with_every_lint() -> None:
    result = run_tool("promtool", "check", "rules", "--lint=all", "--lint-fatal", *rule_files())
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.rules
@pytest.mark.parametrize("test_file", sorted(RULE_TESTS_DIR.glob("*_test.yml")), ids=lambda p: p.name)
def test_promtool_unit_tests_pass(test_file: Path) -> None:
    result = run_tool("promtool", "test", "rules", test_file, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
