"""Reports: the table, the JSON document, a failure naming the broken hop, progress lines."""

from __future__ import annotations

import io
import json

from stack.drills.floors import Floor
from stack.drills.report import AlertResult, DrillFailure, Progress, ScenarioResult, SuiteResult, render_table

FLOOR = Floor(scrape=1, evaluation=1, for_=5, keep_firing_for=0, group_wait=1, group_interval=5, drain=5)


def alert(**seconds: float) -> AlertResult:
    a = AlertResult("BackendHighErrorRate", {"instance": "backend-1:8000"}, "critical", ["pagerduty"], FLOOR)
    a.pending, a.firing, a.alertmanager = seconds.get("pending"), seconds.get("firing"), seconds.get("am")
    if "notified" in seconds:
        a.notified["pagerduty"] = seconds["notified"]
    if "resolved" in seconds:
        a.resolved["pagerduty"] = seconds["resolved"]
    return a


def suite() -> SuiteResult:
    ok = ScenarioResult(
        "http-5xx", alerts=[alert(pending=1.2, firing=6.3, am=6.4, notified=7.5, resolved=9.0)]
    )
    bad = ScenarioResult(
        "db-down", alerts=[alert(pending=1.0)], error="hop 'firing' broke", failed_hop="firing"
    )
    return SuiteResult([ok, bad], wall_seconds=42.0, factor=60)


def test_the_table_has_one_row_per_alert_with_its_floor_and_the_excess() -> None:
    text = render_table(suite())
    row = next(line for line in text.splitlines() if line.startswith("http-5xx"))
    assert "BackendHighErrorRate{instance=backend-1:8000}" in row
    assert "7.5" in row and "8.0" in row and "-0.5" in row and "ok" in row
    assert "1/2 drills passed in 42.0 s" in text
    assert "FAILED db-down: hop 'firing' broke" in text


def test_the_json_document_carries_every_hop_and_the_floor_inputs() -> None:
    doc = json.loads(json.dumps(suite().as_json()))
    assert doc["ok"] is False
    first = doc["scenarios"][0]["alerts"][0]
    assert first["seconds"]["notified"] == 7.5
    assert first["seconds"]["resolved_notified"] == 9.0
    assert first["floor"]["notified"] == 8.0
    assert first["floor"]["inputs"]["for"] == 5
    assert doc["scenarios"][1]["failed_hop"] == "firing"


def test_notification_time_waits_for_every_receiver() -> None:
    a = AlertResult("AuthFailureSpike", {}, "critical", ["pagerduty", "slack/security"], FLOOR)
    a.notified["pagerduty"] = 3.0
    partial = a.to_notification
    a.notified["slack/security"] = 4.0
    assert (partial, a.to_notification, a.over_floor) == (None, 4.0, -4.0)


def test_a_failure_names_the_hop_and_the_last_state_of_every_hop() -> None:
    exc = DrillFailure(
        "db-down",
        "DatabaseDown",
        "notification at pagerduty",
        "not reached within floor 4.0 s + margin 10 s",
        {"prometheus": "firing since ...", "alertmanager": "active", "receiver": "no notification"},
    )
    text = str(exc)
    assert "drill db-down: DatabaseDown: hop 'notification at pagerduty' broke" in text
    for hop in ("prometheus: firing", "alertmanager: active", "receiver: no notification"):
        assert hop in text


def test_progress_writes_lines_only_when_enabled() -> None:
    out = io.StringIO()
    Progress(out, enabled=True)("http-5xx", "injected http_5xx@backend-1")
    assert "http-5xx" in out.getvalue() and "injected" in out.getvalue()
    quiet = io.StringIO()
    Progress(quiet)("http-5xx", "injected")  # a StringIO is not a terminal
    assert quiet.getvalue() == ""
