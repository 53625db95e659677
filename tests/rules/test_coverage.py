"""Every alert is complete: severity, area, summary, description, runbook_url, dashboard, a
runbook section, promtool cases that bracket it, and a route to the right receivers."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import pytest

import stack.alerting
from stack.alerting import AREAS, DASHBOARD_UIDS, SEVERITIES, alert_names, load_alert_rules, runbook_url
from tests.rules._support import (
    ALERTMANAGER_YML,
    LOKI_RULES_DIR,
    RULE_TESTS_DIR,
    RUNBOOKS_MD,
    load_yaml,
    run_tool,
)

ALERTS = load_alert_rules()
NAMES = alert_names()
# Log-based alerts, evaluated by Loki's ruler in the compose bundle: no promtool case can
# cover LogQL, but they follow the same conventions and reach the same routes.
LOG_ALERTS = [
    rule
    for path in sorted(LOKI_RULES_DIR.rglob("*.yaml"))
    for group in load_yaml(path)["groups"]
    for rule in group["rules"]
    if "alert" in rule
]


def expected_receivers(severity: str, area: str, name: str) -> list[str]:
    """The routing contract: critical pages, warning goes to #alerts, security also to #security,
    Watchdog only to the heartbeat, info nowhere."""
    if name == "Watchdog":
        return ["heartbeat"]
    receivers = ["slack-security"] if area == "security" else []
    receivers.append({"critical": "pager", "warning": "slack-alerts", "info": "blackhole"}[severity])
    return receivers


def promtool_cases() -> dict[str, dict[str, int]]:
    """Per alert name: how many promtool checks expect it firing ("firing") and silent ("silent"),
    and how many firing expectations carry its runbook_url ("runbook")."""
    cases: dict[str, dict[str, int]] = defaultdict(lambda: {"firing": 0, "silent": 0, "runbook": 0})
    for test_file in RULE_TESTS_DIR.glob("*_test.yml"):
        for group in load_yaml(test_file)["tests"]:
            for check in group.get("alert_rule_test") or []:
                expected = check.get("exp_alerts") or []
                counts = cases[check["alertname"]]
                counts["firing" if expected else "silent"] += 1
                counts["runbook"] += sum(
                    1
                    for alert in expected
                    if alert.get("exp_annotations", {}).get("runbook_url") == runbook_url(check["alertname"])
                )
    return cases


def test_there_are_alerts_in_every_area() -> None:
    assert {rule.area for rule in ALERTS} == set(AREAS)
    assert len(NAMES) >= 40


@pytest.mark.parametrize("rule", ALERTS, ids=lambda r: f"{r.name}-{r.for_}")
def test_alert_has_labels_and_annotations(rule: stack.alerting.AlertRule) -> None:
    assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", rule.name), "alert names are CamelCase"
    assert rule.severity in SEVERITIES
    assert rule.area == rule.file.stem, "the area label names the file the alert is in"
    summary = rule.annotations.get("summary", "")
    assert summary and "{{" not in summary, "summary is present and static"
    description = rule.annotations.get("description", "")
    assert description, "description is present"
    if rule.name != "Watchdog":
        assert "{{ $labels." in description, "description names the instance / tool / agent / job"
    assert rule.annotations.get("runbook_url") == runbook_url(rule.name)
    assert rule.annotations.get("dashboard") in {f"http://localhost:3000/d/{uid}" for uid in DASHBOARD_UIDS}


def test_every_alert_has_a_runbook_section() -> None:
    headings = set(re.findall(r"^### (\S+)\s*$", RUNBOOKS_MD.read_text(encoding="utf-8"), flags=re.MULTILINE))
    every_alert = set(NAMES) | {rule["alert"] for rule in LOG_ALERTS}
    assert sorted(every_alert - headings) == [], "alerts without a runbook section"
    assert sorted(headings - every_alert) == [], "runbook sections of alerts that do not exist"


def test_every_runbook_section_has_its_parts() -> None:
    text = RUNBOOKS_MD.read_text(encoding="utf-8")
    for name in [*NAMES, *(rule["alert"] for rule in LOG_ALERTS)]:
        section = text.split(f"\n### {name}\n", 1)[1].split("\n### ", 1)[0]
        for part in ("Meaning", "Impact", "First checks", "Mitigation", "Escalation", "Reproduce"):
            assert f"**{part}:**" in section, f"runbook of {name} lacks {part}"


def test_every_runbook_drill_command_names_a_scenario_about_that_alert() -> None:
    from stack.drills import load_catalog

    scenarios = load_catalog().scenarios
    text = RUNBOOKS_MD.read_text(encoding="utf-8")
    checked = 0
    for name in NAMES:
        section = text.split(f"\n### {name}\n", 1)[1].split("\n### ", 1)[0]
        for drill in re.findall(r"python -m stack drill ([a-z0-9-]+)", section):
            assert drill in scenarios, f"runbook of {name}: no scenario {drill!r}"
            s = scenarios[drill]
            about = {r.alert for r in [*s.expect, *s.inhibited, *s.side_effects]}
            assert name in about, f"runbook of {name}: scenario {drill} neither raises nor inhibits it"
            checked += 1
    assert checked >= 30


def test_every_alert_has_promtool_cases_on_both_sides() -> None:
    cases = promtool_cases()
    for name in NAMES:
        counts = cases[name]
        assert counts["firing"] >= 1, f"{name}: no promtool case where it fires"
        assert counts["runbook"] >= 1, f"{name}: no firing case checks its runbook_url"
        if name != "Watchdog":
            # Silent under healthy traffic, one evaluation before `for`, and after resolution.
            assert counts["silent"] >= 3, f"{name}: fewer than three silent checks"


def test_alertgroup_pairs_have_a_critical_and_a_warning() -> None:
    by_group: dict[str, set[str]] = defaultdict(set)
    for rule in ALERTS:
        if "alertgroup" in rule.labels:
            by_group[rule.labels["alertgroup"]].add(rule.severity)
    assert by_group
    for group, severities in by_group.items():
        assert severities == {"critical", "warning"}, f"alertgroup {group}: {severities}"


def test_the_public_names_are_what_we_mean_to_export() -> None:
    assert set(stack.alerting.__all__) == {
        "AREAS",
        "DASHBOARD_UIDS",
        "PROVISIONING_DIR",
        "RULES_DIR",
        "RUNBOOK_URL_BASE",
        "SEVERITIES",
        "URL_OVERRIDES",
        "AlertRule",
        "alert_names",
        "apply_url_overrides",
        "load_alert_rules",
        "override_urls",
        "runbook_url",
    }


@pytest.mark.rules
@pytest.mark.parametrize("name", NAMES)
def test_every_alert_routes_to_its_receivers(name: str) -> None:
    rule = next(r for r in ALERTS if r.name == name)
    labels = [f"alertname={name}", *(f"{k}={v}" for k, v in sorted(rule.labels.items()))]
    want = expected_receivers(rule.severity, rule.area, name)
    result = run_tool(
        "amtool",
        "config",
        "routes",
        "test",
        f"--config.file={ALERTMANAGER_YML}",
        f"--verify.receivers={','.join(want)}",
        *labels,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ",".join(want)


def test_there_is_a_log_based_alert() -> None:
    assert [rule["alert"] for rule in LOG_ALERTS] == ["AuthFailureBurstFromClient"]


@pytest.mark.parametrize("rule", LOG_ALERTS, ids=lambda r: str(r["alert"]))
def test_log_alert_follows_the_conventions(rule: dict[str, Any]) -> None:
    labels, annotations = rule["labels"], rule["annotations"]
    assert labels["severity"] in SEVERITIES
    assert labels["area"] in AREAS
    assert annotations["summary"] and "{{" not in annotations["summary"]
    assert "{{ $labels." in annotations["description"]
    assert annotations["runbook_url"] == runbook_url(rule["alert"])
    assert annotations["dashboard"] in {f"http://localhost:3000/d/{uid}" for uid in DASHBOARD_UIDS}


@pytest.mark.rules
@pytest.mark.parametrize("rule", LOG_ALERTS, ids=lambda r: str(r["alert"]))
def test_log_alert_routes_to_its_receivers(rule: dict[str, Any]) -> None:
    name, labels = rule["alert"], rule["labels"]
    want = expected_receivers(labels["severity"], labels["area"], name)
    result = run_tool(
        "amtool",
        "config",
        "routes",
        "test",
        f"--config.file={ALERTMANAGER_YML}",
        f"--verify.receivers={','.join(want)}",
        f"alertname={name}",
        *(f"{k}={v}" for k, v in sorted(labels.items())),
    )
    assert result.returncode == 0, result.stdout + result.stderr
