"""Every scenario of the catalog through a native stack: the drills that need traffic on the
busy stack, the ``traffic: false`` ones on the quiet stack, each lane in one drill run
(concurrent where drills cannot interfere) whose per-scenario results each parameter asserts.

The busy run happens once (on first use) after the healthy-baseline window of
:mod:`tests.e2e.test_negative`, which needs a stack no drill has touched yet.
"""

from __future__ import annotations

import pytest

from stack.drills import SuiteResult
from tests.e2e.suites import CATALOG, LANES

pytestmark = pytest.mark.e2e


def check_scenario(suite: SuiteResult, name: str) -> None:
    result = suite.get(name)
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


@pytest.mark.parametrize("name", LANES["busy"])
def test_drill_under_load(drill_suite: SuiteResult, name: str) -> None:
    check_scenario(drill_suite, name)


@pytest.mark.parametrize("name", LANES["quiet"])
def test_drill_without_load(quiet_drill_suite: SuiteResult, name: str) -> None:
    check_scenario(quiet_drill_suite, name)


def test_every_scenario_runs_in_one_lane() -> None:
    assert sorted(LANES["busy"] + LANES["quiet"]) == sorted(CATALOG.scenarios)
    assert LANES["busy"] and LANES["quiet"]
