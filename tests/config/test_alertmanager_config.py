"""alertmanager.yml: valid on Alertmanager 0.28, every severity / area path routes where the
contract says, inhibition rules name real alerts, URLs can be overridden without editing the
file, and the notification templates show summary, description, runbook and dashboard."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import stack.alerting
from stack.alerting import SEVERITIES, URL_OVERRIDES, alert_names, apply_url_overrides, load_alert_rules
from tests.rules._support import ALERTMANAGER_YML, TEMPLATES_DIR, load_yaml, run_tool

CONFIG = load_yaml(ALERTMANAGER_YML)
TEXT = ALERTMANAGER_YML.read_text(encoding="utf-8")
MATCHER = re.compile(r'^(?P<label>\w+)(?P<op>=~|!~|!=|=)"(?P<value>[^"]*)"$')
JOBS = {"backend", "blackbox-health", "blackbox-readiness", "prometheus", "alertmanager"}

# (labels, receivers in routing-tree order) for every severity / area path.
ROUTES = [
    ({"alertname": "BackendDown", "severity": "critical", "area": "availability"}, ["pager"]),
    ({"alertname": "ToolHighErrorRate", "severity": "warning", "area": "tools"}, ["slack-alerts"]),
    (
        {"alertname": "AuthFailureSpike", "severity": "critical", "area": "security"},
        ["slack-security", "pager"],
    ),
    (
        {"alertname": "SomeSecurityWarning", "severity": "warning", "area": "security"},
        ["slack-security", "slack-alerts"],
    ),
    ({"alertname": "Watchdog", "severity": "info", "area": "stack"}, ["heartbeat"]),
    ({"alertname": "SomeContext", "severity": "info", "area": "llm"}, ["blackhole"]),
    # No severity at all still reaches a person rather than nowhere.
    ({"alertname": "Unlabelled"}, ["slack-alerts"]),
]


def matchers(strings: list[str]) -> list[tuple[str, str, str]]:
    out = []
    for s in strings:
        m = MATCHER.match(s)
        assert m, f'matcher {s!r} is not label<op>"quoted value"'
        out.append((m["label"], m["op"], m["value"]))
    return out


@pytest.mark.rules
def test_amtool_accepts_the_config() -> None:
    result = run_tool("amtool", "check-config", ALERTMANAGER_YML)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 templates" in result.stdout


@pytest.mark.rules
@pytest.mark.parametrize(
    ("labels", "receivers"), ROUTES, ids=lambda v: v.get("alertname") if isinstance(v, dict) else None
)
def test_route(labels: dict[str, str], receivers: list[str]) -> None:
    result = run_tool(
        "amtool",
        "config",
        "routes",
        "test",
        f"--config.file={ALERTMANAGER_YML}",
        f"--verify.receivers={','.join(receivers)}",
        *(f"{k}={v}" for k, v in labels.items()),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_matchers_use_the_quoted_syntax_only() -> None:
    def walk(route: dict[str, Any]) -> None:
        assert "match" not in route and "match_re" not in route
        matchers(route.get("matchers", []))
        for child in route.get("routes", []):
            walk(child)

    walk(CONFIG["route"])
    for rule in CONFIG["inhibit_rules"]:
        assert set(rule) <= {"source_matchers", "target_matchers", "equal"}


def test_inhibition_rules_name_alerts_and_labels_that_exist() -> None:
    names = set(alert_names())
    groups = {r.labels["alertgroup"] for r in load_alert_rules() if "alertgroup" in r.labels}
    for rule in CONFIG["inhibit_rules"]:
        for label, op, value in matchers(rule["source_matchers"] + rule["target_matchers"]):
            values = value.split("|") if op in ("=~", "!~") else [value]
            if label == "alertname":
                assert set(values) <= names, f"inhibition names unknown alerts: {set(values) - names}"
            elif label == "severity":
                assert set(values) <= set(SEVERITIES)
            elif label == "job":
                assert set(values) <= JOBS
            elif label == "alertgroup":
                assert value == ".+" or value in groups
            else:
                pytest.fail(f"unexpected inhibition label {label}")


def test_route_grouping_and_watchdog_heartbeat() -> None:
    route = CONFIG["route"]
    assert route["group_by"] == ["alertname", "instance", "tool", "agent"]
    watchdog = route["routes"][0]
    assert watchdog["matchers"] == ['alertname="Watchdog"'] and watchdog["receiver"] == "heartbeat"
    assert watchdog.get("continue") is not True


def test_each_overridable_default_appears_exactly_once() -> None:
    for var, default in URL_OVERRIDES.items():
        assert TEXT.count(default) == 1, var
        assert var in TEXT, f"{var} is documented in the file's header comment"


def test_overrides_replace_only_the_variables_that_are_set() -> None:
    rendered = apply_url_overrides(
        TEXT, {"ALERTMANAGER_SLACK_ALERTS_URL": "https://hooks.slack.com/services/T/B/X"}
    )
    assert "https://hooks.slack.com/services/T/B/X" in rendered
    assert "http://receiver:8300/slack/alerts" not in rendered
    assert "http://receiver:8300/slack/security" in rendered
    assert apply_url_overrides(TEXT, {}) == TEXT
    assert apply_url_overrides(TEXT, {"ALERTMANAGER_HEARTBEAT_URL": ""}) == TEXT


def test_an_override_whose_default_is_gone_fails_naming_the_variable() -> None:
    text = TEXT.replace("http://receiver:8300/webhook/heartbeat", "http://elsewhere:1/")
    with pytest.raises(ValueError, match="ALERTMANAGER_HEARTBEAT_URL"):
        apply_url_overrides(text, {"ALERTMANAGER_HEARTBEAT_URL": "https://hb.example/"})


@pytest.mark.rules
def test_overridden_config_is_still_valid(tmp_path: Path) -> None:
    env = {var: f"https://example.com/{var.lower()}" for var in URL_OVERRIDES}
    env["ALERTMANAGER_PAGERDUTY_ROUTING_KEY"] = "0123456789abcdef0123456789abcdef"
    rendered = tmp_path / "alertmanager.yml"
    rendered.write_text(apply_url_overrides(TEXT, env), encoding="utf-8")
    (tmp_path / "templates").symlink_to(TEMPLATES_DIR)
    result = run_tool("amtool", "check-config", rendered)
    assert result.returncode == 0, result.stdout + result.stderr


def sample_data(status: str = "firing") -> dict[str, Any]:
    """Template data for one real alert, as Alertmanager passes it to templates."""
    rule = next(r for r in load_alert_rules() if r.name == "BackendHighErrorRate")
    labels = {"alertname": rule.name, **rule.labels, "instance": "backend-1:8000", "job": "backend"}
    annotations = {
        **rule.annotations,
        "description": "12% of /ag-ui/events requests on backend-1:8000 failed.",
    }
    alert = {
        "status": status,
        "labels": labels,
        "annotations": annotations,
        "startsAt": "2026-01-01T00:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": "0123456789abcdef",
    }
    return {
        "receiver": "pager",
        "status": status,
        "alerts": [alert],
        "groupLabels": {"alertname": rule.name, "instance": "backend-1:8000"},
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "http://alertmanager:9093",
    }


def render(template: str, data: dict[str, Any], tmp_path: Path) -> str:
    data_file = tmp_path / "data.json"
    data_file.write_text(json.dumps(data), encoding="utf-8")
    result = run_tool(
        "amtool",
        "template",
        "render",
        f"--template.glob={TEMPLATES_DIR}/*.tmpl",
        f"--template.text={{{{ template {json.dumps(template)} . }}}}",
        f"--template.data={data_file}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.rules
@pytest.mark.parametrize("template", ["apg.slack.text", "apg.text"])
def test_message_text_shows_description_runbook_and_dashboard(template: str, tmp_path: Path) -> None:
    data = sample_data()
    alert = data["alerts"][0]
    text = render(template, data, tmp_path)
    assert alert["annotations"]["summary"] in text
    assert alert["annotations"]["description"] in text
    assert alert["annotations"]["runbook_url"] in text
    assert alert["annotations"]["dashboard"] in text
    # Not the raw label set.
    assert "alertgroup" not in text and "severity=" not in text


@pytest.mark.rules
def test_title_names_status_alert_and_instance(tmp_path: Path) -> None:
    assert render("apg.title", sample_data(), tmp_path).strip() == (
        "[FIRING:1] BackendHighErrorRate (critical) on backend-1:8000"
    )
    resolved = render("apg.slack.text", sample_data("resolved"), tmp_path)
    assert resolved.startswith("*Resolved: ")


def test_the_header_names_functions_that_exist() -> None:
    """The header says which functions apply the overrides; they must be the package's own."""
    header = "".join(line for line in TEXT.splitlines(keepends=True) if line.startswith("#"))
    named = set(re.findall(r"stack\.alerting\.(\w+)", header))
    assert named == {"override_urls", "apply_url_overrides"}
    assert named <= set(stack.alerting.__all__)
    assert "replaced whole" in header
