"""The drills package exports what its users (the CLI, the e2e tier, the benchmark) need."""

from __future__ import annotations

import stack.drills as drills


def test_public_names() -> None:
    assert set(drills.__all__) == {
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
    }
    assert all(hasattr(drills, name) for name in drills.__all__)


def test_the_drill_subcommand_registers_itself() -> None:
    from stack.cli import COMMANDS, build_parser

    build_parser()
    assert "drill" in COMMANDS
    args = build_parser().parse_args(["drill", "--all", "--json", "--factor", "120"])
    assert (args.all, args.json, args.factor) == (True, True, 120.0)
