"""Every scenario of the catalog through the native stack: one drill run for the session,
concurrent where drills cannot interfere, whose per-scenario results each parameter asserts.

The run happens once (on first use) after the healthy-baseline window of
:mod:`tests.e2e.test_negative`, which needs a stack no drill has touched yet.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest

from stack.drills import DrillSession, SuiteResult, load_catalog
from stack.drills.observe import Observer, Snapshot
from stack.drills.report import Progress
from stack.native import NativeStack
from tests.e2e.conftest import record_figure

pytestmark = pytest.mark.e2e


CATALOG = load_catalog()
# A healthy stack under load is watched this long before any drill.
BASELINE_WINDOW_SECONDS = 8.0
_cache: dict[str, Any] = {}


def _active(snap: Snapshot) -> list[str]:
    return [
        f"{a['labels']['alertname']} {a['state']} {a['labels'].get('instance', '')}"
        for a in snap.prometheus or []
    ]


def healthy_baseline_for(stack: NativeStack) -> dict[str, Any]:
    """Everything but Watchdog seen pending/firing in Prometheus, active in Alertmanager or
    delivered, while the untouched stack runs under load for the window (computed once; also
    written to ``healthy-baseline.json`` in the run directory)."""
    if "baseline" in _cache:
        return dict(_cache["baseline"])
    with stack.prometheus() as prom, stack.alertmanager() as am, stack.receiver() as rec:
        # Let the load generator's traffic reach every rate window before watching.
        prom.wait_targets_up(timeout=30)
        start = time.time()
        seen: dict[str, set[str]] = {"prometheus": set(), "alertmanager": set(), "receiver": set()}
        with Observer(prom, am, rec) as obs:
            deadline = time.monotonic() + BASELINE_WINDOW_SECONDS
            while time.monotonic() < deadline:
                snap = obs.next_snapshot(obs.snapshot.at)
                seen["prometheus"].update(_active(snap))
                for a in snap.alertmanager or []:
                    seen["alertmanager"].add(a["labels"]["alertname"])
            for d in obs.deliveries(start):
                seen["receiver"].update(d.get("alertnames") or [])
    result = {
        "window": BASELINE_WINDOW_SECONDS,
        **{hop: sorted(x for x in names if not x.startswith("Watchdog")) for hop, names in seen.items()},
        "watchdog_seen": sorted(x for x in seen["prometheus"] if x.startswith("Watchdog")),
    }
    _cache["baseline"] = result
    (stack.run_dir / "healthy-baseline.json").write_text(json.dumps(result, indent=2))
    return dict(result)


def drill_suite_for(stack: NativeStack) -> SuiteResult:
    """The whole catalog, run once per session (after the healthy baseline)."""
    if "suite" not in _cache:
        healthy_baseline_for(stack)
        verbose = Progress(enabled=bool(os.environ.get("DRILL_PROGRESS")))
        with DrillSession.attach(stack, progress=verbose) as session:
            suite = session.run(list(CATALOG.scenarios.values()))
        _cache["suite"] = suite
        # The whole run, for reading after a failure in CI.
        (stack.run_dir / "drill-suite.json").write_text(json.dumps(suite.as_json(), indent=2))
        record_figure("drill suite wall time, s", suite.wall_seconds)
        overs = [a.over_floor for s in suite.scenarios for a in s.alerts if a.over_floor is not None]
        if overs:
            record_figure("drills: worst time to notification over its floor, s", max(overs))
    result: SuiteResult = _cache["suite"]
    return result


@pytest.fixture(scope="module")
def drill_suite(native_stack: NativeStack) -> SuiteResult:
    return drill_suite_for(native_stack)


@pytest.mark.parametrize("name", sorted(CATALOG.scenarios))
def test_scenario(drill_suite: SuiteResult, name: str) -> None:
    result = drill_suite.get(name)
    if result.known_issue and not result.ok:
        pytest.xfail(f"known issue: {result.known_issue}\n{result.error}")
    problems = [result.error or "", *result.violations]
    assert result.ok, f"drill {name} failed:\n" + "\n".join(p for p in problems if p)
    scenario = CATALOG.scenarios[name]
    for exp, got in zip(scenario.expect, result.alerts, strict=True):
        assert got.to_notification is not None, got.name
        assert got.text_ok, f"{got.name}: notification text lacks its description or runbook link"
        assert set(got.notified) == set(exp.receivers)
        if exp.resolves:
            assert got.to_resolved is not None, f"{got.name}: no resolved notification"
    for inh in result.inhibited:
        assert inh.notifications == 0, f"inhibited {inh.alert} was notified"
