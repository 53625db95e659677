"""The drill runs of the e2e tier, each done once per session and shared by the tests that
assert on it.

- :func:`healthy_baseline_for`: what the untouched busy stack raised while watched under load;
- :func:`drill_suite_for`: a lane's drills, concurrent where they cannot interfere. The busy
  lane runs every scenario that needs traffic (after the healthy baseline, which needs a stack
  no drill has touched yet), the quiet lane every ``traffic: false`` scenario.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from stack.drills import DrillSession, SuiteResult, load_catalog
from stack.drills.observe import Observer, Snapshot
from stack.drills.report import Progress
from stack.native import NativeStack
from tests.e2e.conftest import BUSY
from tests.support.figures import record_figure

__all__ = ["BASELINE_WINDOW_SECONDS", "CATALOG", "LANES", "drill_suite_for", "healthy_baseline_for"]

CATALOG = load_catalog()
# Scenario names by lane.
LANES: dict[str, list[str]] = {
    "busy": sorted(n for n, s in CATALOG.scenarios.items() if s.traffic),
    "quiet": sorted(n for n, s in CATALOG.scenarios.items() if not s.traffic),
}
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


def drill_suite_for(stack: NativeStack, lane: str) -> SuiteResult:
    """The lane's scenarios, run once per session on ``stack``."""
    key = f"suite-{lane}"
    if key not in _cache:
        if lane == BUSY:
            healthy_baseline_for(stack)
        verbose = Progress(enabled=bool(os.environ.get("DRILL_PROGRESS")))
        with DrillSession.attach(stack, progress=verbose) as session:
            suite = session.run([CATALOG.scenarios[name] for name in LANES[lane]])
        _cache[key] = suite
        # The whole run, for reading after a failure in CI.
        (stack.run_dir / "drill-suite.json").write_text(json.dumps(suite.as_json(), indent=2))
        record_figure(f"{lane} drill suite ({len(LANES[lane])} drills) wall time, s", suite.wall_seconds)
        overs = [a.over_floor for s in suite.scenarios for a in s.alerts if a.over_floor is not None]
        if overs:
            record_figure(f"{lane} drills: worst time to notification over its floor, s", max(overs))
    result: SuiteResult = _cache[key]
    return result
