"""Drill results, the per-alert table, the JSON document, and live progress lines.

Times of the firing hops are seconds from the injection; times of the resolution hops are
seconds from clearing the fault. ``None`` means the hop was not reached.

Usage::

    print(render_table(suite))
    json.dumps(suite.as_json())
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from stack.drills.floors import Floor

__all__ = [
    "AlertResult",
    "DrillFailure",
    "InhibitedResult",
    "Progress",
    "ScenarioResult",
    "SuiteResult",
    "render_table",
]


class DrillFailure(AssertionError):
    """A hop that broke: names the scenario, the alert, the hop and the last state seen at
    every hop."""

    def __init__(self, scenario: str, alert: str, hop: str, detail: str, states: dict[str, Any]) -> None:
        lines = [f"drill {scenario}: {alert}: hop '{hop}' broke: {detail}", "last state seen at each hop:"]
        lines += [f"  {name}: {state}" for name, state in states.items()]
        super().__init__("\n".join(lines))
        self.scenario, self.alert, self.hop, self.detail, self.states = scenario, alert, hop, detail, states


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


@dataclass
class AlertResult:
    """One expected alert's hops."""

    alert: str
    labels: dict[str, str]
    severity: str
    receivers: list[str]
    floor: Floor
    pending: float | None = None
    firing: float | None = None
    alertmanager: float | None = None
    notified: dict[str, float] = field(default_factory=dict)
    resolved_prometheus: float | None = None
    resolved: dict[str, float] = field(default_factory=dict)
    notifications: dict[str, int] = field(default_factory=dict)
    text_ok: bool | None = None

    @property
    def name(self) -> str:
        inner = ",".join(f"{k}={v}" for k, v in sorted(self.labels.items()))
        return f"{self.alert}{{{inner}}}" if inner else self.alert

    @property
    def to_notification(self) -> float | None:
        """When the last of its receivers got it (None until all did)."""
        if not self.receivers or any(r not in self.notified for r in self.receivers):
            return None
        return max(self.notified[r] for r in self.receivers)

    @property
    def to_resolved(self) -> float | None:
        if not self.resolved or any(r not in self.resolved for r in self.receivers):
            return None
        return max(self.resolved.values())

    @property
    def over_floor(self) -> float | None:
        got = self.to_notification
        return None if got is None else got - self.floor.notified

    def as_json(self) -> dict[str, Any]:
        return {
            "alert": self.alert,
            "labels": self.labels,
            "severity": self.severity,
            "receivers": self.receivers,
            "seconds": {
                "pending": _r(self.pending),
                "firing": _r(self.firing),
                "alertmanager": _r(self.alertmanager),
                "notified": _r(self.to_notification),
                "notified_by_receiver": {k: _r(v) for k, v in self.notified.items()},
                "resolved_in_prometheus": _r(self.resolved_prometheus),
                "resolved_notified": _r(self.to_resolved),
                "resolved_by_receiver": {k: _r(v) for k, v in self.resolved.items()},
            },
            "floor": self.floor.as_json(),
            "over_floor": _r(self.over_floor),
            "notifications": self.notifications,
            "text_has_description_and_runbook": self.text_ok,
        }


@dataclass
class InhibitedResult:
    alert: str
    labels: dict[str, str]
    fired: float | None = None
    inhibited_in_alertmanager: float | None = None
    inhibited_by: list[str] = field(default_factory=list)
    notifications: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "alert": self.alert,
            "labels": self.labels,
            "fired": _r(self.fired),
            "inhibited_in_alertmanager": _r(self.inhibited_in_alertmanager),
            "inhibited_by": self.inhibited_by,
            "notifications": self.notifications,
        }


@dataclass
class ScenarioResult:
    name: str
    started: float = 0.0
    injected: float | None = None
    cleared: float | None = None
    finished: float | None = None
    alerts: list[AlertResult] = field(default_factory=list)
    inhibited: list[InhibitedResult] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    error: str | None = None
    failed_hop: str | None = None
    # Free-form facts a drill measured (receiver failed attempts, restored activeAt, ...).
    facts: dict[str, Any] = field(default_factory=dict)
    known_issue: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.violations

    @property
    def duration(self) -> float | None:
        return None if self.finished is None else self.finished - self.started

    def alert(self, name: str) -> AlertResult:
        for a in self.alerts:
            if a.alert == name:
                return a
        raise KeyError(f"{self.name} has no expected alert {name}")

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "error": self.error,
            "failed_hop": self.failed_hop,
            "violations": self.violations,
            "duration_seconds": _r(self.duration),
            "started_unix": _r(self.started),
            "injected_unix": _r(self.injected),
            "cleared_unix": _r(self.cleared),
            "finished_unix": _r(self.finished),
            "known_issue": self.known_issue,
            "alerts": [a.as_json() for a in self.alerts],
            "inhibited": [i.as_json() for i in self.inhibited],
            "facts": self.facts,
        }


@dataclass
class SuiteResult:
    scenarios: list[ScenarioResult]
    wall_seconds: float
    factor: float
    started_stack: bool = False
    # What the stack reported of itself: {"prometheus": "3.5.3+ds1", ...}.
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Every drill passed, or failed only where a known issue says it would."""
        return all(s.ok or s.known_issue for s in self.scenarios)

    def get(self, name: str) -> ScenarioResult:
        for s in self.scenarios:
            if s.name == name:
                return s
        raise KeyError(f"scenario {name} was not run")

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "wall_seconds": _r(self.wall_seconds),
            "factor": self.factor,
            "versions": self.versions,
            "scenarios": [s.as_json() for s in self.scenarios],
        }


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def render_table(suite: SuiteResult) -> str:
    """One row per expected alert: each hop's time and the floor of notification."""
    header = (
        "scenario",
        "alert",
        "pending",
        "firing",
        "am",
        "notified",
        "floor",
        "over",
        "resolved",
        "r.floor",
        "ok",
    )
    rows: list[tuple[str, ...]] = []
    for s in suite.scenarios:
        for a in s.alerts:
            rows.append(
                (
                    s.name,
                    a.name,
                    _s(a.pending),
                    _s(a.firing),
                    _s(a.alertmanager),
                    _s(a.to_notification),
                    _s(a.floor.notified) + ("*" if a.floor.refire else ""),
                    "-" if a.over_floor is None else f"{a.over_floor:+.1f}",
                    _s(a.to_resolved),
                    _s(a.floor.resolved),
                    "ok" if s.ok else ("known" if s.known_issue else "FAIL"),
                )
            )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [header, *rows]
    ]
    failed = [s for s in suite.scenarios if not s.ok]
    lines.append("")
    passed = len(suite.scenarios) - len(failed)
    lines.append(
        f"{passed}/{len(suite.scenarios)} drills passed in {suite.wall_seconds:.1f} s "
        f"(factor {suite.factor:g}; seconds from injection, resolution from clearing; "
        "* = joined a live Alertmanager group)"
    )
    if suite.versions:
        lines.append("on " + ", ".join(f"{name} {version}" for name, version in suite.versions.items()))
    for s in failed:
        lines.append("")
        label = f"FAILED (known issue: {s.known_issue})" if s.known_issue else "FAILED"
        lines.append(f"{label} {s.name}: {s.error or ''}")
        lines.extend(f"  violation: {v}" for v in s.violations)
    return "\n".join(lines)


class Progress:
    """Live progress: one line per event on a terminal, nothing otherwise (``--json``
    output must stay a single document)."""

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._t0 = time.monotonic()
        self._lock = threading.Lock()

    def __call__(self, scenario: str, message: str) -> None:
        if not self.enabled:
            return
        with self._lock:
            self.stream.write(f"{time.monotonic() - self._t0:7.1f}s  {scenario:<32} {message}\n")
            self.stream.flush()
