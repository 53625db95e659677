"""A drill whose fault needs CPU time of its own is refused, by name and figure, on a machine
too busy to judge it; with enough idle CPU it goes on. The real catalog's CPU drill says how
much it needs, and the measurement reads this machine."""

from __future__ import annotations

import os
from typing import Any

import psutil
import pytest

from stack.drills.catalog import load_catalog
from stack.drills.engine import DrillContext, _Run, measure_idle_cores
from stack.drills.model import Scenario
from stack.drills.observe import Snapshot
from stack.drills.report import DrillFailure
from stack.native.settings import DRILL_ENV


class _Observer:
    snapshot = Snapshot(at=0.0, prometheus=[], alertmanager=[])

    def deliveries(self, since: float) -> list[dict[str, Any]]:
        return []


def _cpu_drill(needs: float | None) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "cpu",
            "description": "burns CPU",
            "resources": ["backend-1/cpu"],
            "inject": [{"fault": "cpu_burn", "instance": "backend-1", "params": {"cores": 1.5}}],
            "expect": [{"alert": "BackendCpuSaturated", "severity": "critical", "receivers": ["pagerduty"]}],
            "needs_idle_cores": needs,
        }
    )


def _run(scenario: Scenario, idle: float) -> _Run:
    ctx = DrillContext(
        timers=None,  # type: ignore[arg-type]
        observer=_Observer(),  # type: ignore[arg-type]
        actions=None,  # type: ignore[arg-type]
        factor=60.0,
        idle_cores=lambda: idle,
    )
    return _Run(ctx, scenario)


def test_a_busy_machine_refuses_the_drill_with_the_figures() -> None:
    run = _run(_cpu_drill(0.9), idle=0.35)
    with pytest.raises(DrillFailure) as err:
        run.enough_cpu()
    assert err.value.hop == "machine too busy"
    assert "0.35 idle CPU cores, this drill needs 0.9" in err.value.detail
    assert "nothing was injected" in err.value.detail
    assert run.result.facts["idle_cores"] == 0.35


def test_enough_idle_cpu_lets_the_drill_go_on() -> None:
    run = _run(_cpu_drill(0.9), idle=1.4)
    run.enough_cpu()
    assert run.result.facts["idle_cores"] == 1.4


def test_a_drill_that_needs_no_cpu_is_never_measured() -> None:
    def boom() -> float:
        raise AssertionError("measured")

    run = _run(_cpu_drill(None), idle=0.0)
    run.ctx.idle_cores = boom
    run.enough_cpu()
    assert "idle_cores" not in run.result.facts


def test_the_cpu_drill_is_refused_only_on_a_machine_with_almost_nothing_idle() -> None:
    # The burn competes with the stack's processes for CPU, so it is judged with less idle CPU
    # than its alert's 90 % of the drill limit, but never on a saturated machine.
    needs = load_catalog().scenarios["cpu-saturated"].needs_idle_cores
    assert needs is not None
    assert 0 < needs < 0.9 * float(DRILL_ENV["backend-1"]["BACKEND_CPU_LIMIT_CORES"])


def test_idle_cores_are_the_unused_share_of_the_cores_this_process_may_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(psutil, "cpu_percent", lambda interval: 25.0)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    assert measure_idle_cores(0.0) == 3.0
