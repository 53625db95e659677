"""The floor formula, the route walk and the timers read from rendered files."""

from __future__ import annotations

from pathlib import Path

import pytest

from stack.drills.floors import Floor, Route, Timers, first_retry, parse_matcher
from stack.native.render import render_all
from stack.native.settings import StackSettings


def test_the_floor_formula() -> None:
    f = Floor(scrape=1, evaluation=1, for_=5, keep_firing_for=0, group_wait=1, group_interval=5, drain=5)
    assert (f.pending, f.firing, f.notified, f.resolved) == (2, 7, 8, 12)


def test_for_rounds_up_to_whole_evaluations_and_a_live_group_costs_its_interval() -> None:
    f = Floor(
        scrape=15, evaluation=15, for_=20, keep_firing_for=0, group_wait=30, group_interval=300, drain=0
    )
    assert f.firing == 15 + 15 + 30
    assert f.notified == 60 + 30
    assert Floor(**{**f.__dict__, "refire": True}).notified == 60 + 300


def test_the_fault_signal_delays_every_hop_from_pending_on() -> None:
    f = Floor(scrape=1, evaluation=1, for_=5, keep_firing_for=0, group_wait=1, group_interval=5, drain=5,
              signal=6.2)  # fmt: skip
    assert (f.pending, f.firing, f.notified) == pytest.approx((8.2, 13.2, 14.2))
    assert f.resolved == 12, "resolution is measured from clearing, which the signal does not move"


def test_a_held_notification_waits_for_the_first_retry_after_the_hold() -> None:
    base = {"scrape": 1, "evaluation": 1, "for_": 3, "keep_firing_for": 0, "group_wait": 1,
            "group_interval": 3, "drain": 0}  # fmt: skip
    # First attempt at group_wait (1 s); retries 0.5, 1.25, 2.375 s later: the first one
    # after the receiver is back (hold 3 s, 2 s after the first attempt) is at 1 + 2.375.
    assert Floor(**base, hold=3).notified == 5 + 1 + 2.375
    assert Floor(**base, hold=0.5).notified == 5 + 1, "a hold shorter than group_wait changes nothing"
    assert Floor(**base, hold=4, refire=True).notified == 5 + 3 + 1.25
    assert Floor(**base, hold=1.5).notified == 5 + 1 + 0.5, "a retry exactly at the hold delivers"


def test_alertmanager_retries_with_growing_gaps() -> None:
    after = (-1, 0, 0.1, 0.5, 0.6, 1.25, 2, 4)
    assert [first_retry(x) for x in after] == [0, 0, 0.5, 0.5, 1.25, 1.25, 2.375, 4.0625]


def test_prometheus_downtime_mid_for_delays_firing() -> None:
    f = Floor(scrape=1, evaluation=1, for_=9, keep_firing_for=0, group_wait=1, group_interval=3, drain=0,
              downtime=2.5)  # fmt: skip
    assert (f.firing, f.notified) == (2 + 9 + 2.5, 2 + 9 + 2.5 + 1)
    assert f.as_json()["inputs"]["downtime"] == 2.5


def test_an_already_firing_alert_only_waits_for_its_repeat() -> None:
    f = Floor(scrape=1, evaluation=1, for_=0, keep_firing_for=0, group_wait=2, group_interval=1, drain=0,
              already_firing=True)  # fmt: skip
    assert (f.pending, f.firing, f.notified) == (0, 0, 2)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ('alertname="Watchdog"', ("alertname", "=", "Watchdog")),
        ("severity!=info", ("severity", "!=", "info")),
        ('alertname=~"A|B"', ("alertname", "=~", "A|B")),
    ],
)
def test_matchers(text: str, parsed: tuple[str, str, str]) -> None:
    assert parse_matcher(text) == parsed


def test_the_route_walk_follows_continue_and_inherits_timers() -> None:
    root = Route.parse(
        {
            "receiver": "default",
            "group_by": ["alertname"],
            "group_wait": "30s",
            "routes": [
                {"matchers": ['area="security"'], "receiver": "sec", "continue": True},
                {"matchers": ['severity="critical"'], "receiver": "pager", "group_wait": "10s"},
            ],
        }
    )
    got = root.match({"alertname": "X", "area": "security", "severity": "critical"})
    assert [(r.receiver, r.group_wait) for r in got] == [("sec", 30), ("pager", 10)]
    assert [r.receiver for r in root.match({"alertname": "Y", "severity": "warning"})] == ["default"]


@pytest.fixture(scope="module")
def drill_timers(tmp_path_factory: pytest.TempPathFactory) -> Timers:
    run_dir = tmp_path_factory.mktemp("rendered")
    render_all(StackSettings(run_dir=run_dir, drill=True, factor=60), environ={})
    return Timers.for_run_dir(run_dir)


def test_rendered_drill_timers(drill_timers: Timers) -> None:
    assert (drill_timers.scrape, drill_timers.evaluation) == (1, 1)
    # BackendDown: `for: 1m` / 60 = 1 s; critical route: group_wait 30s / 60 -> floored to 1 s.
    down = drill_timers.floor("BackendDown", {"instance": "backend-1:8000"})
    assert (down.for_, down.group_wait, down.group_interval) == (1, 1, 5)
    assert down.notified == 1 + 1 + 1 + 1


def test_security_alerts_reach_the_pager_and_the_security_channel(drill_timers: Timers) -> None:
    assert drill_timers.receivers("AuthFailureSpike") == {"pagerduty", "slack/security"}
    assert drill_timers.receivers("Watchdog") == {"webhook/heartbeat"}
    assert drill_timers.receivers("BackendProbeFailing") == {"slack/alerts"}


def test_drain_is_the_shortest_window_of_each_rule(drill_timers: Timers) -> None:
    # A gauge drains at once; a 5m ratio compressed to 5 s; the SLO group waits for its 30m rule.
    assert drill_timers.drain("DatabaseStorageNearlyFull") == 0
    assert drill_timers.drain("BackendHighErrorRate") == 5
    assert drill_timers.drain("SLOAvailabilityFastBurn") == 30


def test_unknown_alerts_are_named(drill_timers: Timers, tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="NoSuchAlert"):
        drill_timers.floor("NoSuchAlert")
