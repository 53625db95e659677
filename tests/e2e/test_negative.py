"""What must NOT happen: a healthy stack under load fires nothing but Watchdog, an
inhibited alert is never notified, and a silence created through Alertmanager's API
suppresses the notification (on the quiet stack, after its drills)."""

from __future__ import annotations

import time

import pytest

from stack.clients import AlertmanagerClient, BackendAdmin, PrometheusClient, ReceiverClient
from stack.drills import SuiteResult
from stack.native import NativeStack
from tests.e2e.suites import CATALOG, LANES, healthy_baseline_for
from tests.support.figures import record_figure

pytestmark = pytest.mark.e2e


def inhibited(lane: str) -> list[tuple[str, str]]:
    return [(name, i.describe()) for name in LANES[lane] for i in CATALOG.scenarios[name].inhibited]


def test_a_healthy_baseline_under_load_fires_nothing_but_watchdog(native_stack: NativeStack) -> None:
    seen = healthy_baseline_for(native_stack)
    assert seen["watchdog_seen"], "Watchdog never fired: the pipeline itself is broken"
    firing = [line for line in seen["prometheus"] if " firing " in f"{line} "]
    assert firing == [], f"firing on a healthy stack: {firing}"
    assert seen["alertmanager"] == [], f"in Alertmanager on a healthy stack: {seen['alertmanager']}"
    assert seen["receiver"] == [], f"notified on a healthy stack: {seen['receiver']}"
    # Pending for an evaluation is not an alert (its `for` is there to absorb exactly that); at the
    # compressed scale a ratio over a 4 s window of a few dozen events sometimes touches its
    # threshold. Reported, so a rule that keeps doing it shows.
    record_figure("healthy baseline: alerts seen pending (never firing)", len(seen["prometheus"]))


def check_never_notified(suite: SuiteResult, name: str, alert: str) -> None:
    result = suite.get(name)
    if result.known_issue and not result.ok:
        pytest.xfail(f"{name}: {result.known_issue}")
    assert result.ok, result.error
    pairs = zip(CATALOG.scenarios[name].inhibited, result.inhibited, strict=True)
    got = next(r for spec, r in pairs if spec.describe() == alert)
    assert got.fired is not None, f"{alert} never fired, so its inhibition proved nothing"
    assert got.inhibited_in_alertmanager is not None, f"{alert} was never inhibited in Alertmanager"
    assert got.notifications == 0, f"{alert} was notified although inhibited"


@pytest.mark.parametrize(("name", "alert"), inhibited("busy"))
def test_an_inhibited_alert_is_never_notified(drill_suite: SuiteResult, name: str, alert: str) -> None:
    check_never_notified(drill_suite, name, alert)


@pytest.mark.parametrize(("name", "alert"), inhibited("quiet"))
def test_an_inhibited_alert_is_never_notified_without_load(
    quiet_drill_suite: SuiteResult, name: str, alert: str
) -> None:
    check_never_notified(quiet_drill_suite, name, alert)


def test_a_silence_created_through_the_api_suppresses_the_notification(
    quiet_prometheus: PrometheusClient,
    quiet_alertmanager: AlertmanagerClient,
    quiet_receiver: ReceiverClient,
    quiet_admins: dict[str, BackendAdmin],
) -> None:
    # No drill of the quiet stack raises this alert, so without the silence it would open a new
    # Alertmanager group and be notified after group_wait (1 s), well within the window.
    labels = {"alertname": "DatabaseStorageNearlyFull", "instance": "backend-1:8000"}
    silence = quiet_alertmanager.create_silence(labels, seconds=300, comment="e2e: silence suppresses")
    admin = quiet_admins["backend-1"]
    started = time.time()
    try:
        admin.set("db_storage_fill", fraction=0.95)
        quiet_prometheus.wait_alert(
            labels["alertname"], "firing", {"instance": labels["instance"]}, timeout=20
        )
        muted = quiet_alertmanager.wait_alert(
            labels["alertname"], labels={"instance": labels["instance"]}, timeout=10
        )
        assert silence in muted["status"]["silencedBy"], muted["status"]
        # Watch well past group_wait (1 s in drill mode, the wait of a new group) and a group tick
        # (3 s): nothing may arrive.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            delivered = quiet_receiver.deliveries(alertname=labels["alertname"], since=started)
            assert not [d for d in delivered if labels["instance"] in str(d)], delivered
            time.sleep(0.25)
    finally:
        admin.clear("db_storage_fill")
        quiet_prometheus.wait_alert_gone(labels["alertname"], timeout=20)
        quiet_alertmanager.delete_silence(silence)
