"""Alert drills: scenarios as data (``stack/scenarios/*.yaml``), the engine that injects a
fault and follows every alert hop by hop against the native stack, the floors the timers
impose, and the reports.

Usage::

    catalog = load_catalog()
    with DrillSession.attach(native_stack) as session:
        suite = session.run(list(catalog.scenarios.values()))
    print(render_table(suite))
"""

from __future__ import annotations

from stack.drills.catalog import (
    SCENARIOS_DIR,
    Catalog,
    CatalogError,
    check_catalog,
    load_catalog,
    load_scenario,
)
from stack.drills.floors import Floor, Timers
from stack.drills.model import Scenario
from stack.drills.report import AlertResult, DrillFailure, ScenarioResult, SuiteResult, render_table
from stack.drills.suite import DrillSession, order_constraints

__all__ = [
    "SCENARIOS_DIR",
    "AlertResult",
    "Catalog",
    "CatalogError",
    "DrillFailure",
    "DrillSession",
    "Floor",
    "Scenario",
    "ScenarioResult",
    "SuiteResult",
    "Timers",
    "check_catalog",
    "load_catalog",
    "load_scenario",
    "order_constraints",
    "render_table",
]
