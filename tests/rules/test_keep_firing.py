"""Alerts that inhibit others outlive them: Alertmanager inhibits only while the source alert
fires, so an inhibitor that resolves first lets what it suppressed notify after all. Each
inhibitor's ``keep_firing_for`` must cover the rate window of every alert it inhibits plus that
alert's own ``keep_firing_for``; the promtool cases show it in time, these checks keep it so."""

from __future__ import annotations

import re
from datetime import timedelta

import promql_parser
import pytest

from stack.alerting import AlertRule, load_alert_rules
from stack.timecompress import parse_duration
from tests.rules._support import ALERTMANAGER_YML, all_rules, load_yaml, walk

ALERTS = load_alert_rules()
RECORDS = {rule["record"]: rule["expr"] for _, rule in all_rules() if "record" in rule}
INHIBIT_RULES = load_yaml(ALERTMANAGER_YML)["inhibit_rules"]
MATCHER = re.compile(r'^(?P<label>\w+)(?P<op>=~|!~|!=|=)"(?P<value>[^"]*)"$')
# What each inhibitor keeps firing for; the reasons are in the rule files and the runbook.
EXPECTED = {
    "BackendDown": "10m",
    "DatabaseDown": "10m",
    "LLMApiUnavailable": "10m",
    "BackendProbesFailingOnMultipleInstances": "5m",
    "BackendHighErrorRate": "5m",
    "BackendHighLatencyP99": "5m",
    "LLMHighErrorRate": "5m",
    "BackendCpuSaturated": "5m",
    "BackendMemorySaturated": "5m",
    "DatabaseStorageNearlyFull": "5m",
    "SLOAvailabilityFastBurn": "5m",
    "SLOLatencyFastBurn": "5m",
}
# The slow-burn tickets read 2h..3d windows: a page held that long after the burn stopped would
# be re-sent hourly for an incident that is over. The fast burns ride out dips of their short
# window only; a ticket after a long page is the budget that incident spent (see the runbook).
SLO_ALERTGROUPS = {"SLOAvailabilityBurn", "SLOLatencyBurn"}


def seconds(duration: str) -> float:
    return parse_duration(duration) / 1000


def rate_window(expr: str) -> timedelta:
    """The longest range of rate()/increase()/irate() the expression reads, through recording
    rules: how long after a fault stops the expression can still see it."""
    longest = timedelta(0)
    for node in walk(expr):
        if isinstance(node, promql_parser.Call) and node.func.name in {"rate", "increase", "irate"}:
            for arg in node.args:
                if isinstance(arg, promql_parser.MatrixSelector):
                    longest = max(longest, arg.range)
        if isinstance(node, promql_parser.VectorSelector) and node.name in RECORDS:
            longest = max(longest, rate_window(RECORDS[node.name]))
    return longest


def matches(labels: dict[str, str], strings: list[str], expr: str = "") -> bool:
    """Whether an alert with these rule labels can match the matchers. `job` comes from the
    series, not the rule: a `job="x"` matcher matches when the expression selects job x."""
    for s in strings:
        m = MATCHER.match(s)
        assert m, s
        if m["label"] == "job" and "job" not in labels and m["op"] == "=":
            if m["value"] not in expr:
                return False
            continue
        value = labels.get(m["label"], "")
        ok = {
            "=": value == m["value"],
            "!=": value != m["value"],
            "=~": re.fullmatch(m["value"], value) is not None,
            "!~": re.fullmatch(m["value"], value) is None,
        }[m["op"]]
        if not ok:
            return False
    return True


def per_instance(rule: AlertRule) -> bool:
    """Job-level alerts (aggregated by job or read from job: records) carry no instance label,
    so an inhibition with `equal: [instance]` from an instance alert never reaches them."""
    return "by (job)" not in rule.expr and not re.search(r"\bjob:", rule.expr)


def inhibited_by(source: AlertRule) -> list[AlertRule]:
    labels = {"alertname": source.name, **source.labels}
    out: list[AlertRule] = []
    for inhibit in INHIBIT_RULES:
        if not matches(labels, inhibit["source_matchers"]):
            continue
        equal = inhibit.get("equal", [])
        for target in ALERTS:
            target_labels = {"alertname": target.name, **target.labels}
            if target.name == source.name or not matches(
                target_labels, inhibit["target_matchers"], target.expr
            ):
                continue
            if any(k in source.labels and source.labels.get(k) != target.labels.get(k) for k in equal):
                continue
            if "instance" in equal and per_instance(source) and not per_instance(target):
                continue
            out.append(target)
    return out


INHIBITORS = sorted({rule.name for rule in ALERTS if inhibited_by(rule)})


def test_the_inhibitors_are_the_ones_we_expect() -> None:
    assert sorted(EXPECTED) == INHIBITORS


@pytest.mark.parametrize(
    "rule", [r for r in ALERTS if r.name in EXPECTED], ids=lambda r: f"{r.name}-{r.for_}"
)
def test_inhibitor_keeps_firing_for_its_expected_time(rule: AlertRule) -> None:
    assert rule.keep_firing_for == EXPECTED[rule.name]


@pytest.mark.parametrize(
    "rule",
    [r for r in ALERTS if r.name in EXPECTED and r.labels.get("alertgroup") not in SLO_ALERTGROUPS],
    ids=lambda r: r.name,
)
def test_inhibitor_outlives_everything_it_inhibits(rule: AlertRule) -> None:
    for target in inhibited_by(rule):
        needed = rate_window(target.expr).total_seconds() + seconds(target.keep_firing_for)
        assert seconds(rule.keep_firing_for) >= needed, (
            f"{rule.name} keeps firing {rule.keep_firing_for}, but {target.name} can stay firing "
            f"{needed:.0f}s after the fault ends"
        )


def test_the_check_sees_the_pairs_and_windows() -> None:
    """Guards the test above against passing vacuously."""
    by_name = {rule.name: rule for rule in ALERTS}
    assert "BackendElevatedErrorRate" in {t.name for t in inhibited_by(by_name["BackendHighErrorRate"])}
    assert "LLMHighErrorRate" in {t.name for t in inhibited_by(by_name["LLMApiUnavailable"])}
    assert "SLOAvailabilityFastBurn" not in {t.name for t in inhibited_by(by_name["BackendDown"])}
    assert "BackendProbesFailingOnMultipleInstances" in {
        t.name for t in inhibited_by(by_name["DatabaseDown"])
    }
    assert rate_window(by_name["BackendElevatedErrorRate"].expr) == timedelta(minutes=5)
    assert rate_window(by_name["BackendMemoryHigh"].expr) == timedelta(0)


def test_alerts_that_inhibit_nothing_resolve_at_once() -> None:
    """A warning that kept firing would outlast the critical that inhibits it."""
    for rule in ALERTS:
        if rule.name not in EXPECTED:
            assert rule.keep_firing_for == "0s", rule.name
