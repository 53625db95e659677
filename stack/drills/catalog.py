"""Load the scenario catalog (``stack/scenarios/*.yaml``) and check it against the fault
catalog and the alert rules.

Every ``<name>.yaml`` is one :class:`~stack.drills.model.Scenario`, except
``not-drillable.yaml``, which lists the alerts no live drill can prove, with reasons.
A bad file fails loading with :class:`CatalogError` naming the file and the key::

    stack/scenarios/backend-5xx.yaml: expect.0.receivers: Value error, ['pager']: ...

Usage::

    catalog = load_catalog()
    problems = check_catalog(catalog, load_alert_rules())   # [] when consistent
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sample_backend.faults.catalog import FAULTS
from sample_backend.faults.registry import FaultError, validate
from stack.alerting import AlertRule
from stack.drills.model import NotDrillable, NotDrillableList, Scenario

__all__ = ["SCENARIOS_DIR", "Catalog", "CatalogError", "check_catalog", "load_catalog", "load_scenario"]

SCENARIOS_DIR = Path(__file__).resolve().parents[1] / "scenarios"
NOT_DRILLABLE_FILE = "not-drillable.yaml"


class CatalogError(ValueError):
    """A scenario file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Catalog:
    scenarios: dict[str, Scenario]
    not_drillable: list[NotDrillable] = field(default_factory=list)

    def select(self, names: Iterable[str]) -> list[Scenario]:
        """The named scenarios, in the order given; unknown names raise CatalogError."""
        chosen = []
        for name in names:
            if name not in self.scenarios:
                raise CatalogError(f"unknown scenario {name!r}; known: {', '.join(sorted(self.scenarios))}")
            chosen.append(self.scenarios[name])
        return chosen

    def drilled_alerts(self) -> set[str]:
        """Alert names some scenario proves (notified or inhibited)."""
        names: set[str] = set()
        for s in self.scenarios.values():
            names.update(a.alert for a in s.expect)
            names.update(a.alert for a in s.inhibited if a.must_fire)
        return names


def _read(path: Path) -> Any:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise CatalogError(f"{path}: expected a mapping at the top level")
    return doc


def _errors(path: Path, exc: ValidationError) -> CatalogError:
    lines = [
        f"{path}: {'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
        for err in exc.errors()
    ]
    return CatalogError("\n".join(lines))


def load_scenario(path: Path) -> Scenario:
    """One scenario file; the name comes from the file name."""
    doc = _read(path)
    if "name" in doc:
        raise CatalogError(f"{path}: name: the name is the file name ({path.stem}); remove the key")
    try:
        scenario = Scenario.model_validate({**doc, "name": path.stem})
    except ValidationError as exc:
        raise _errors(path, exc) from exc
    for i, step in enumerate(scenario.inject):
        if step.fault not in FAULTS:
            raise CatalogError(
                f"{path}: inject.{i}.fault: unknown fault {step.fault!r}; known: {', '.join(FAULTS)}"
            )
        try:
            validate(step.fault, dict(step.params))
        except FaultError as exc:
            raise CatalogError(f"{path}: inject.{i}.params: {exc}") from exc
    return scenario


def load_catalog(directory: Path = SCENARIOS_DIR) -> Catalog:
    """Every scenario in ``directory`` plus its not-drillable list."""
    if not directory.is_dir():
        raise CatalogError(f"{directory}: scenario directory not found")
    scenarios: dict[str, Scenario] = {}
    not_drillable: list[NotDrillable] = []
    for path in sorted(directory.glob("*.yaml")):
        if path.name == NOT_DRILLABLE_FILE:
            try:
                not_drillable = NotDrillableList.model_validate(_read(path)).not_drillable
            except ValidationError as exc:
                raise _errors(path, exc) from exc
            continue
        scenario = load_scenario(path)
        scenarios[scenario.name] = scenario
    if not scenarios:
        raise CatalogError(f"{directory}: no scenario files (*.yaml)")
    return Catalog(scenarios, not_drillable)


def check_catalog(catalog: Catalog, rules: list[AlertRule]) -> list[str]:
    """Problems between the catalog and the alert rules: unknown alerts, wrong severities,
    alerts with neither a scenario nor a reason, reasons for alerts that are drilled."""
    by_name: dict[str, set[str]] = {}
    for rule in rules:
        by_name.setdefault(rule.name, set()).add(rule.severity)
    problems: list[str] = []
    for s in catalog.scenarios.values():
        refs = [*s.expect, *s.inhibited, *s.must_not_fire, *s.side_effects]
        for ref in refs:
            if ref.alert not in by_name:
                problems.append(f"{s.name}: alert {ref.alert} is not in provisioning/prometheus/rules")
        for exp in s.expect:
            if exp.alert in by_name and exp.severity not in by_name[exp.alert]:
                rule_says = sorted(by_name[exp.alert])
                problems.append(
                    f"{s.name}: {exp.alert} has severity {exp.severity}, the rule says {rule_says}"
                )
    drilled = catalog.drilled_alerts()
    excused = {n.alert for n in catalog.not_drillable}
    for name in sorted(by_name):
        if name not in drilled and name not in excused:
            problems.append(f"{name}: no scenario drills it and {NOT_DRILLABLE_FILE} gives no reason")
    for name in sorted(excused):
        if name not in by_name:
            problems.append(f"{NOT_DRILLABLE_FILE}: {name} is not in provisioning/prometheus/rules")
        elif name in drilled:
            problems.append(f"{NOT_DRILLABLE_FILE}: {name} is drilled by a scenario; drop the reason")
    return problems
