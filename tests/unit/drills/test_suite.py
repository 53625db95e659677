"""Scheduling: concurrent where resources allow, exclusive drills alone, ordering constraints
from shared Alertmanager groups respected."""

from __future__ import annotations

import threading
import time

from stack.alerting import PROVISIONING_DIR
from stack.drills import Timers, load_catalog, order_constraints
from stack.drills.model import Scenario
from stack.drills.report import ScenarioResult
from stack.drills.suite import run_concurrently

TIMERS = Timers.from_files(
    PROVISIONING_DIR / "prometheus" / "prometheus.yml",
    PROVISIONING_DIR / "prometheus" / "rules",
    PROVISIONING_DIR / "alertmanager" / "alertmanager.yml",
)


def make(name: str, resources: list[str], exclusive: bool = False) -> Scenario:
    return Scenario.model_validate(
        {
            "name": name,
            "description": "d",
            "resources": resources,
            "exclusive": exclusive,
            "inject": [{"fault": "http_5xx"}],
            "expect": [{"alert": "A", "severity": "warning", "receivers": ["slack/alerts"]}],
        }
    )


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.spans: dict[str, tuple[float, float]] = {}

    def __call__(self, s: Scenario) -> ScenarioResult:
        start = time.monotonic()
        time.sleep(0.05)
        with self.lock:
            self.spans[s.name] = (start, time.monotonic())
        return ScenarioResult(s.name)

    def overlap(self, a: str, b: str) -> bool:
        (a0, a1), (b0, b1) = self.spans[a], self.spans[b]
        return a0 < b1 and b0 < a1


def test_disjoint_drills_run_together_and_conflicting_ones_do_not() -> None:
    drills = [
        make("a", ["backend-1/http"]),
        make("b", ["backend-2/http"]),
        make("c", ["backend-1/http"]),
        make("x", ["receiver"], exclusive=True),
    ]
    rec = Recorder()
    done = run_concurrently(drills, rec, {})
    assert set(done) == {"a", "b", "c", "x"}
    assert rec.overlap("a", "b")
    assert not rec.overlap("a", "c")
    assert not any(rec.overlap("x", other) for other in "abc")


def test_ordering_constraints_are_respected() -> None:
    drills = [make("first", ["backend-1/x"]), make("second", ["backend-2/y"])]
    rec = Recorder()
    run_concurrently(drills, rec, {"first": {"second"}})
    assert rec.spans["second"][1] <= rec.spans["first"][0]


def test_a_drill_opening_another_drills_group_runs_after_it() -> None:
    catalog = load_catalog()
    after = order_constraints(list(catalog.scenarios.values()), TIMERS)
    # db-down pages BackendHighErrorRate on backend-1 as a side effect: http-5xx expects that page.
    assert "http-5xx" in after["db-down"]
    # probes-failing-everywhere inhibits the warning probe-failing expects to be notified.
    assert "probe-failing" in after["probes-failing-everywhere"]
    # No drill waits for itself, and no two drills wait for each other.
    for name, before in after.items():
        assert name not in before
        assert all(name not in after[other] for other in before)


def test_a_drill_notifying_an_alert_another_drill_keeps_silent_runs_after_it() -> None:
    catalog = load_catalog()
    after = order_constraints(list(catalog.scenarios.values()), TIMERS)
    # a2a-latency's side effect (backend-2's latency warning) is the alert latency proves inhibited:
    # a notification of it, or of its resolution, must not land while latency watches.
    assert "latency" in after["a2a-latency"]
    assert "a2a-latency" not in after["latency"]


def run_releasing(drills: list[Scenario], releasing: str, tail: float) -> dict[str, tuple[float, float]]:
    """Run ``drills``; ``releasing`` releases its resources after 0.1 s (faults off, alerts
    gone: only the resolution is left) and ends ``tail`` seconds later. Start and end of each."""
    released: set[str] = set()
    lock = threading.Lock()
    spans: dict[str, tuple[float, float]] = {}

    def run_one(s: Scenario) -> ScenarioResult:
        start = time.monotonic()
        if s.name == releasing:
            time.sleep(0.1)
            with lock:
                released.add(releasing)
            time.sleep(tail)
        else:
            time.sleep(0.05)
        spans[s.name] = (start, time.monotonic())
        return ScenarioResult(s.name)

    run_concurrently(drills, run_one, {}, released=released, lock=lock)
    return spans


def test_a_released_drill_lets_a_conflicting_one_start_but_an_exclusive_one_waits_for_its_end() -> None:
    drills = [
        make("long", ["backend-1/http"]),
        make("next", ["backend-1/http"]),
        make("x", ["receiver"], exclusive=True),
    ]
    spans = run_releasing(drills, "long", 0.6)
    assert spans["next"][0] < spans["long"][1], "the released resources went to the next drill"
    assert spans["next"][0] >= spans["long"][0] + 0.1
    assert spans["x"][0] >= spans["long"][1], "an exclusive drill waits for every drill's end"


def test_a_drill_that_stops_a_component_waits_for_the_end_of_a_released_one() -> None:
    """BackendDown inhibits every alert of its instance, and Alertmanager drops a resolved
    notification it mutes: the released drill's resolution must arrive first."""
    kill = Scenario.model_validate(
        {
            "name": "kill",
            "description": "d",
            "resources": ["backend-2"],
            "stack": [{"action": "kill", "component": "backend-2"}],
            "expect": [{"alert": "BackendDown", "severity": "critical", "receivers": ["pagerduty"]}],
        }
    )
    spans = run_releasing([make("latency", ["backend-2/agent/a2a"]), kill], "latency", 0.5)
    assert spans["kill"][0] >= spans["latency"][1], "the kill waited for the resolution to arrive"
