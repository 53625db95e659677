"""Every alert in provisioning/ is drilled live or has a written reason why it cannot be,
and every scenario agrees with the rules and with Alertmanager's routing."""

from __future__ import annotations

from pathlib import Path

import pytest

from stack.alerting import PROVISIONING_DIR, alert_names, load_alert_rules
from stack.drills import Timers, check_catalog, load_catalog

CATALOG = load_catalog()
TIMERS = Timers.from_files(
    PROVISIONING_DIR / "prometheus" / "prometheus.yml",
    PROVISIONING_DIR / "prometheus" / "rules",
    PROVISIONING_DIR / "alertmanager" / "alertmanager.yml",
)


def test_every_alert_has_a_scenario_or_a_reason() -> None:
    assert check_catalog(CATALOG, load_alert_rules()) == []


@pytest.mark.parametrize("alert", alert_names())
def test_alert_is_drilled_or_excused(alert: str) -> None:
    excused = {n.alert: n.reason for n in CATALOG.not_drillable}
    assert alert in CATALOG.drilled_alerts() or alert in excused, (
        f"{alert}: add a scenario to stack/scenarios/ or a reason to not-drillable.yaml"
    )


def test_the_check_names_an_alert_with_neither(tmp_path: Path) -> None:
    rules = load_alert_rules()
    trimmed = type(CATALOG)(
        {k: v for k, v in CATALOG.scenarios.items() if k != "db-down"}, CATALOG.not_drillable
    )
    assert any(p.startswith("DatabaseDown: no scenario") for p in check_catalog(trimmed, rules))


@pytest.mark.parametrize("name", sorted(CATALOG.scenarios))
def test_expected_receivers_are_where_alertmanager_routes(name: str) -> None:
    for exp in CATALOG.scenarios[name].expect:
        assert TIMERS.receivers(exp.alert, exp.labels) == set(exp.receivers), exp.describe()


def test_each_notified_group_is_expected_by_one_drill_only() -> None:
    """A second drill notifying the same Alertmanager group would find it still alive (Prometheus
    re-sends resolved alerts for 15 minutes) and be held back until the group's next tick."""
    owners: dict[object, str] = {}
    for s in CATALOG.scenarios.values():
        for exp in s.expect:
            for key in TIMERS.group_keys(exp.alert, exp.labels):
                assert owners.setdefault(key, s.name) == s.name, f"{key}: {owners[key]} and {s.name}"
