"""Faults of the stack itself, with nothing lost. Each is a drill of the catalog, run once for the
session on the quiet stack (:mod:`tests.e2e.suites`); these tests assert what the stack fault
proves:

- Alertmanager stopped and started again while alerts fire: each notification arrives, once;
- Prometheus restarted in the middle of a ``for``: the alert still fires and is notified;
- the receiver answering 5xx: Alertmanager retries, the notification arrives after recovery;
- Alertmanager restarted after a notification while the alert keeps firing: its notification log
  survives, so no duplicate arrives before the repeat interval;
- one backend killed: the instance-down alert fires and only that instance's alerts are muted.
"""

from __future__ import annotations

from typing import Any

import pytest

from stack.drills import ScenarioResult, SuiteResult, Timers
from stack.native import NativeStack
from tests.support.figures import record_figure

pytestmark = pytest.mark.e2e


def passed(suite: SuiteResult, name: str) -> ScenarioResult:
    result = suite.get(name)
    assert result.ok, f"drill {name} failed:\n{result.error}\n{result.violations}"
    return result


def step(result: ScenarioResult, kind: str, action: str) -> dict[str, Any]:
    found = [s for s in result.facts.get(kind, []) if s["action"] == action]
    assert found, f"{result.name}: no {action} among {kind}: {result.facts}"
    first: dict[str, Any] = found[0]
    return first


def test_alertmanager_restarted_while_alerts_fire_notifies_each_once(quiet_drill_suite: SuiteResult) -> None:
    result = passed(quiet_drill_suite, "alertmanager-outage")
    started_again = step(result, "undos", "stop")
    for alert in result.alerts:
        assert alert.firing is not None and alert.firing <= started_again["started"] + 0.5, (
            f"{alert.name} fired at {alert.firing} s, after Alertmanager was back"
        )
        assert alert.to_notification is not None and alert.to_notification >= started_again["done"]
        assert alert.notifications == {"slack/alerts": 1}, alert.notifications


def test_prometheus_restarted_mid_for_still_fires(quiet_drill_suite: SuiteResult) -> None:
    result = passed(quiet_drill_suite, "prometheus-restart")
    restart = step(result, "steps", "restart")
    alert = result.alerts[0]
    assert alert.pending is not None and alert.pending <= restart["started"], "restart was not mid-`for`"
    assert alert.firing is not None and alert.firing >= restart["done"]
    assert alert.to_notification is not None
    # The floor counts the restart: Prometheus evaluated nothing while it was down (at least the
    # restart itself; the shift it gave the restored activeAt when it took longer).
    assert alert.floor.downtime >= restart["done"] - restart["started"] - 0.01
    # Whether Prometheus restored the `for` state (same activeAt) or started it again.
    active_at = result.facts["active_at_seen"][alert.name]
    record_figure(
        "prometheus restart: distinct activeAt values seen (1 = for state restored)", len(active_at)
    )


def test_receiver_5xx_is_retried_and_delivered_after_recovery(quiet_drill_suite: SuiteResult) -> None:
    result = passed(quiet_drill_suite, "receiver-outage")
    recovered = step(result, "undos", "fail_receiver")
    assert result.facts["undo_receiver_failure"]["failed_attempts"] > 0
    alert = result.alerts[0]
    assert alert.alertmanager is not None
    # Alertmanager held the alert for longer than group_wait while the receiver still failed.
    assert alert.alertmanager + alert.floor.group_wait < recovered["started"]
    assert alert.to_notification is not None and alert.to_notification >= recovered["done"]
    assert alert.notifications == {"slack/alerts": 1}, alert.notifications
    # The floor counts the seconds the drill keeps the receiver failing after the alert fires.
    assert alert.floor.hold > alert.floor.group_wait


def test_alertmanager_restarted_after_a_notification_sends_no_duplicate(
    quiet_drill_suite: SuiteResult, quiet_stack: NativeStack
) -> None:
    result = passed(quiet_drill_suite, "receiver-outage")
    restart = step(result, "steps", "restart")
    alert = result.alerts[0]
    assert alert.to_notification is not None and alert.to_notification <= restart["started"], (
        "Alertmanager was restarted before the notification"
    )
    # Prometheus re-sent the still-firing alert to the new Alertmanager process ...
    back = result.facts["back_in_alertmanager"]
    assert back >= restart["done"]
    # ... which then had a whole group cycle to notify it again, before the fault was cleared.
    assert result.cleared is not None and result.injected is not None
    held = result.cleared - result.injected
    assert held >= back + alert.floor.group_wait + alert.floor.group_interval
    # One firing episode throughout (a resolve and re-fire would start a new activeAt).
    assert len(result.facts["active_at_seen"][alert.name]) == 1, result.facts["active_at_seen"]
    # The whole watch fits well inside the repeat interval: a second notification would mean the
    # notification log was lost, not that the alert was due again.
    timers = Timers.for_run_dir(quiet_stack.run_dir)
    repeat = min(r.repeat_interval for r in timers.routes(alert.alert, alert.labels))
    assert held - alert.to_notification < repeat
    assert alert.notifications == {"slack/alerts": 1}, alert.notifications


def test_a_killed_backend_fires_instance_down_and_only_its_alerts_are_muted(
    quiet_drill_suite: SuiteResult, quiet_stack: NativeStack
) -> None:
    result = passed(quiet_drill_suite, "backend-down")
    muted = result.facts.get("inhibited_by_expected", [])
    assert any(m["alertname"] == "BackendProbeFailing" for m in muted), muted
    assert all(m.get("instance") == "backend-2:8000" for m in muted), muted
    # Started again when the drill cleared, so later tests see a full stack.
    with quiet_stack.backend("backend-2") as admin:
        assert admin.healthy("/health")
