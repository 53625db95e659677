"""Theoretical floors of each hop, from the timers the stack really runs with.

The timers are read from the rendered files of a running stack (``run_dir/prometheus`` and
``run_dir/alertmanager``: the compressed ``for``, the 1 s intervals, the compressed group
timers) or rendered on the fly from ``provisioning/`` for a given factor.

The floor of a hop is what the configured timers impose when the fault shows in the first
scrape once it can show at all, and every component answers instantly (all times in seconds,
from the injection; ``ceil_eval(x)`` rounds ``x`` up to whole evaluation intervals, since a
rule only changes state at an evaluation)::

    pending  = signal + scrape_interval + evaluation_interval
    firing   = pending + ceil_eval(for) + downtime
    notified = firing + wait + retry(hold - wait)
        wait = group_wait                                (a new Alertmanager group)
             = group_interval                            (the alert joins a group still alive)
    resolved = scrape_interval + drain + evaluation_interval + ceil_eval(keep_firing_for)
               + group_interval               (from clearing the fault)

``drain`` is how long the fault's samples stay in the alert's shortest range window once
the fault is gone (the rule is an ``and`` of windows; the shortest turns false first).
It is zero for alerts on gauges.

``signal`` is the time the fault itself needs before any scrape can show it, which no timer
explains and the scenario declares (``signal_seconds``): a latency fault's slow requests reach
the histogram only when they end; a burn ratio over a window passes its threshold only once
enough of the window holds bad events. It is zero for faults that show at once. The drill adds
the time the fault API took to put its faults in place (memory_pressure answers once its memory
is resident).

Two more terms come from the drill's own steps on the stack. ``hold``: a step undone only some
seconds after the alert fires (the receiver answering 5xx until then) holds the notification
back that long, and then to Alertmanager's next retry: ``retry(x)`` is the first attempt at or
after ``x`` seconds of a delivery retried with Alertmanager's backoff, attempts at 0, 0.5,
1.25, 2.375, ... s (each gap 1.5 times the last, before the gaps' ±50 % jitter; zero when ``x``
<= 0; Alertmanager retries one flush for 10 s, and a scenario's hold is at most 8 s).
``downtime``: while a restarted Prometheus is down it evaluates nothing, and it restores a
pending alert's ``for`` shifted by the time it was down, so the measured downtime of a restart
in the middle of a ``for`` delays firing by as much.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stack.timecompress import parse_duration

__all__ = ["Floor", "Route", "Timers", "first_retry", "parse_matcher"]

_RANGE = re.compile(r"\[\s*(\d+(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*)\s*(?::[^\]]*)?\]")
_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_MATCHER = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$')
# Prometheus keeps a resolved alert for 15 minutes and re-sends it to Alertmanager at
# every resend, which keeps its Alertmanager group alive that long (not compressed).
RESOLVED_RETENTION_SECONDS = 15 * 60.0
# Alertmanager retries a failed delivery with exponential backoff (its notify RetryStage with
# the backoff library's defaults): first gap 0.5 s, each next 1.5 times longer.
RETRY_FIRST_GAP_SECONDS = 0.5
RETRY_GAP_FACTOR = 1.5


def first_retry(seconds: float) -> float:
    """When a delivery retried from 0 makes its first attempt at or after ``seconds``."""
    at, gap = 0.0, RETRY_FIRST_GAP_SECONDS
    while at < seconds - 1e-9:
        at += gap
        gap *= RETRY_GAP_FACTOR
    return at


def _seconds(value: Any, default: float = 0.0) -> float:
    return parse_duration(str(value)) / 1000 if value not in (None, "") else default


def parse_matcher(text: str) -> tuple[str, str, str]:
    """``'area="security"'`` -> ``("area", "=", "security")``."""
    match = _MATCHER.match(text)
    if not match:
        raise ValueError(f"not an Alertmanager matcher: {text!r}")
    return match.group(1), match.group(2), match.group(3)


def _matches(matcher: tuple[str, str, str], labels: dict[str, str]) -> bool:
    name, op, value = matcher
    have = labels.get(name, "")
    if op == "=":
        return have == value
    if op == "!=":
        return have != value
    found = re.fullmatch(value, have) is not None
    return found if op == "=~" else not found


@dataclass(frozen=True)
class Route:
    """One Alertmanager route with its inherited timers."""

    receiver: str
    matchers: list[tuple[str, str, str]]
    group_by: tuple[str, ...]
    group_wait: float
    group_interval: float
    repeat_interval: float
    cont: bool = False
    children: list[Route] = field(default_factory=list)

    @classmethod
    def parse(cls, doc: dict[str, Any], parent: Route | None = None) -> Route:
        matchers = [parse_matcher(m) for m in doc.get("matchers") or []]
        for key, value in (doc.get("match") or {}).items():
            matchers.append((str(key), "=", str(value)))
        route = cls(
            receiver=str(doc.get("receiver") or (parent.receiver if parent else "")),
            matchers=matchers,
            group_by=tuple(doc["group_by"]) if "group_by" in doc else (parent.group_by if parent else ()),
            group_wait=_seconds(doc.get("group_wait"), parent.group_wait if parent else 30.0),
            group_interval=_seconds(doc.get("group_interval"), parent.group_interval if parent else 300.0),
            repeat_interval=_seconds(
                doc.get("repeat_interval"), parent.repeat_interval if parent else 14400.0
            ),
            cont=bool(doc.get("continue", False)),
        )
        route.children.extend(cls.parse(child, route) for child in doc.get("routes") or [])
        return route

    def match(self, labels: dict[str, str]) -> list[Route]:
        """The routes that deliver ``labels``, as Alertmanager walks the tree."""
        if not all(_matches(m, labels) for m in self.matchers):
            return []
        found: list[Route] = []
        for child in self.children:
            got = child.match(labels)
            found.extend(got)
            if got and not child.cont:
                break
        return found or [self]

    def group_key(self, labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
        return tuple((k, labels.get(k, "")) for k in self.group_by)


@dataclass(frozen=True)
class Floor:
    """Floors of one alert's hops (seconds); see the module docstring for the formula."""

    scrape: float
    evaluation: float
    for_: float
    keep_firing_for: float
    group_wait: float
    group_interval: float
    drain: float
    refire: bool = False
    signal: float = 0.0
    hold: float = 0.0
    downtime: float = 0.0
    # Already firing before the drill (Watchdog): only the next notification is awaited,
    # and group_wait holds the repeat interval rounded up to the group's ticks.
    already_firing: bool = False

    def _ceil_eval(self, seconds: float) -> float:
        return math.ceil(seconds / self.evaluation - 1e-9) * self.evaluation if seconds > 0 else 0.0

    @property
    def pending(self) -> float:
        return 0.0 if self.already_firing else self.signal + self.scrape + self.evaluation

    @property
    def firing(self) -> float:
        return 0.0 if self.already_firing else self.pending + self._ceil_eval(self.for_) + self.downtime

    @property
    def notified(self) -> float:
        wait = self.group_interval if self.refire else self.group_wait
        return self.firing + wait + first_retry(self.hold - wait)

    @property
    def resolved(self) -> float:
        return (
            self.scrape
            + self.drain
            + self.evaluation
            + self._ceil_eval(self.keep_firing_for)
            + self.group_interval
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "pending": round(self.pending, 3),
            "firing": round(self.firing, 3),
            "notified": round(self.notified, 3),
            "resolved": round(self.resolved, 3),
            "inputs": {
                "scrape_interval": self.scrape,
                "evaluation_interval": self.evaluation,
                "for": self.for_,
                "keep_firing_for": self.keep_firing_for,
                "group_wait": self.group_wait,
                "group_interval": self.group_interval,
                "drain": self.drain,
                "refire": self.refire,
                "already_firing": self.already_firing,
                "signal": self.signal,
                "hold": self.hold,
                "downtime": round(self.downtime, 3),
            },
        }


@dataclass
class _Rule:
    name: str
    expr: str
    for_: float
    keep_firing_for: float
    labels: dict[str, str]


@dataclass
class Timers:
    """The timers of one (rendered) stack: intervals, rules, Alertmanager routes and the
    URL paths of Alertmanager's receivers (as the notification receiver names them)."""

    scrape: float
    evaluation: float
    rules: list[_Rule]
    records: dict[str, str]
    route: Route
    receiver_paths: dict[str, list[str]]

    @classmethod
    def from_files(cls, prometheus_yml: Path, rules_dir: Path, alertmanager_yml: Path) -> Timers:
        prom = yaml.safe_load(prometheus_yml.read_text()) or {}
        glob = prom.get("global") or {}
        scrape = _seconds(glob.get("scrape_interval"), 60.0)
        evaluation = _seconds(glob.get("evaluation_interval"), 60.0)
        rules: list[_Rule] = []
        records: dict[str, str] = {}
        for path in sorted(rules_dir.glob("*.yml")):
            for group in (yaml.safe_load(path.read_text()) or {}).get("groups") or []:
                for raw in group.get("rules") or []:
                    if "record" in raw:
                        records[str(raw["record"])] = str(raw["expr"])
                    elif "alert" in raw:
                        rules.append(
                            _Rule(
                                str(raw["alert"]),
                                str(raw["expr"]),
                                _seconds(raw.get("for")),
                                _seconds(raw.get("keep_firing_for")),
                                {str(k): str(v) for k, v in (raw.get("labels") or {}).items()},
                            )
                        )
        am = yaml.safe_load(alertmanager_yml.read_text()) or {}
        return cls(scrape, evaluation, rules, records, Route.parse(am["route"]), _receiver_paths(am))

    @classmethod
    def for_run_dir(cls, run_dir: Path) -> Timers:
        """The timers of the stack rendered into ``run_dir``."""
        return cls.from_files(
            run_dir / "prometheus" / "prometheus.yml",
            run_dir / "prometheus" / "rules",
            run_dir / "alertmanager" / "alertmanager.yml",
        )

    # --- per alert ---------------------------------------------------------------------

    def rules_for(self, alert: str, labels: dict[str, str] | None = None) -> list[_Rule]:
        """Rules of ``alert`` whose static labels agree with ``labels``."""
        labels = labels or {}
        found = [
            r
            for r in self.rules
            if r.name == alert and all(labels.get(k, v) == v for k, v in r.labels.items())
        ]
        if not found:
            raise KeyError(f"no alerting rule named {alert} (with labels {labels})")
        return found

    def alert_labels(self, alert: str, labels: dict[str, str] | None = None) -> dict[str, str]:
        """The labels Alertmanager sees: the rule's static labels plus the given ones."""
        rule = self.rules_for(alert, labels)[0]
        return {**rule.labels, **(labels or {}), "alertname": alert}

    def routes(self, alert: str, labels: dict[str, str] | None = None) -> list[Route]:
        return self.route.match(self.alert_labels(alert, labels))

    def receivers(self, alert: str, labels: dict[str, str] | None = None) -> set[str]:
        """Where the notification receiver records this alert's notifications
        (``pagerduty``, ``slack/alerts``, ...); empty when routed to a receiver with none."""
        return {p for r in self.routes(alert, labels) for p in self.receiver_paths.get(r.receiver, [])}

    def group_keys(self, alert: str, labels: dict[str, str] | None = None) -> set[tuple[Any, ...]]:
        full = self.alert_labels(alert, labels)
        return {(r.receiver, r.group_key(full)) for r in self.routes(alert, labels)}

    def _windows(self, expr: str, depth: int = 0) -> list[float]:
        """For each range window the expression depends on, its length (seconds);
        recorded series count with their own longest window."""
        windows = [parse_duration(m) / 1000 for m in _RANGE.findall(expr)]
        if depth < 3:
            for ident in set(_IDENT.findall(expr)):
                if ident in self.records:
                    inner = self._windows(self.records[ident], depth + 1)
                    if inner:
                        windows.append(max(inner))
        return windows

    def drain(self, alert: str, labels: dict[str, str] | None = None) -> float:
        """Seconds the fault's samples keep the alert true after the fault is gone."""
        drains = []
        # Every rule of the name: they share one Alertmanager group, which resolves last.
        for rule in self.rules_for(alert):
            windows = self._windows(rule.expr)
            drains.append(min(windows) if windows else 0.0)
        return max(drains)

    def floor(self, alert: str, labels: dict[str, str] | None = None, *, refire: bool = False) -> Floor:
        """The floor of ``alert``'s hops. With several rules (burn-rate windows) the first to
        fire counts; with several routes the slowest counts."""
        rules = self.rules_for(alert, labels)
        routes = self.routes(alert, labels)
        return Floor(
            scrape=self.scrape,
            evaluation=self.evaluation,
            for_=min(r.for_ for r in rules),
            keep_firing_for=max(r.keep_firing_for for r in rules),
            group_wait=max(r.group_wait for r in routes),
            group_interval=max(r.group_interval for r in routes),
            drain=self.drain(alert, labels),
            refire=refire,
        )

    def repeat_floor(self, alert: str, labels: dict[str, str] | None = None) -> float:
        """For an alert that is already firing: the longest wait for its next notification
        (the repeat interval, rounded up to the group's flush ticks)."""
        worst = 0.0
        for r in self.routes(alert, labels):
            ticks = math.ceil(max(r.repeat_interval, r.group_interval) / r.group_interval - 1e-9)
            worst = max(worst, ticks * r.group_interval)
        return worst


def _receiver_paths(am: dict[str, Any]) -> dict[str, list[str]]:
    """Alertmanager receiver name -> the receiver's paths (``slack/alerts``, ...)."""
    out: dict[str, list[str]] = {}
    for receiver in am.get("receivers") or []:
        paths: list[str] = []
        for key in ("pagerduty_configs", "slack_configs", "webhook_configs"):
            for cfg in receiver.get(key) or []:
                url = str(cfg.get("url") or cfg.get("api_url") or "")
                if "/pagerduty/" in url:
                    paths.append("pagerduty")
                elif "/slack/" in url:
                    paths.append("slack/" + url.rsplit("/slack/", 1)[1].strip("/"))
                elif "/webhook/" in url:
                    paths.append("webhook/" + url.rsplit("/webhook/", 1)[1].strip("/"))
        out[str(receiver["name"])] = paths
    return out
