"""Run one drill: healthy baseline, inject, follow every hop with timestamps, clear,
follow the resolution.

Hops of each expected alert: ``ALERTS`` pending then firing in Prometheus, active in
Alertmanager's ``/api/v2/alerts``, the notification at each of its receivers (its text
must carry the alert's rendered description and runbook link), then after clearing: gone
from Prometheus and the resolved notification. Inhibited alerts must fire in Prometheus,
show as inhibited in Alertmanager and never be notified; ``must_not_fire`` alerts must never
be pending or firing. Any broken hop raises :class:`~stack.drills.report.DrillFailure`
naming the hop and the last state seen at every hop.

A re-fired alert and old Alertmanager groups: Prometheus re-sends a resolved alert for 15
minutes, which keeps its Alertmanager group alive, and an alert joining a live group waits
for the group's next tick (``group_interval``) instead of ``group_wait``. A per-run label
would take rewriting the production rules or Prometheus' alert relabelling (the drill would
then no longer prove the shipped configuration), and waiting 15 minutes is no drill. So the
catalog gives every notified alert its own group key within a suite (side effects are
ordered after the drills they would delay, see :mod:`stack.drills.suite`), and when a
group key was used earlier in the same Alertmanager's life the floor counts
``group_interval`` and the table marks it.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import psutil

from stack.drills.actions import Actions
from stack.drills.floors import RESOLVED_RETENTION_SECONDS, Timers
from stack.drills.model import ExpectedAlert, Scenario, StackStep, _AlertRef
from stack.drills.observe import Observer, Snapshot, delivery_path, delivery_text, normalise, parse_time
from stack.drills.report import AlertResult, DrillFailure, InhibitedResult, ScenarioResult

__all__ = ["DrillContext", "run_scenario"]

GroupKey = tuple[Any, ...]


@dataclass
class DrillContext:
    """Everything a drill needs from the running stack."""

    timers: Timers
    observer: Observer
    actions: Actions
    factor: float
    # How long leftovers of earlier drills may take to resolve before a drill starts.
    baseline_timeout: float = 60.0
    progress: Callable[[str, str], None] = lambda scenario, message: None
    # Group key -> when an alert of it last reached Alertmanager (see the module docstring).
    seen_groups: dict[GroupKey, float] = field(default_factory=dict)
    # Called with the scenario's name once its faults are off and its alerts have left Prometheus:
    # what remains is Alertmanager's resolved notification, which no fault on its resources can
    # disturb, so the scheduler may hand them to the next drill.
    release: Callable[[str], None] = lambda scenario: None
    # Idle CPU cores of this machine right now (measured over a second); see `needs_idle_cores`.
    idle_cores: Callable[[], float] = field(default=lambda: measure_idle_cores())


def measure_idle_cores(seconds: float = 1.0) -> float:
    """Cores' worth of CPU time nothing used over the next ``seconds`` (all of it: 2.0 on an
    idle two-core machine)."""
    busy_percent = psutil.cpu_percent(interval=seconds)
    # The cores this process may run on, not the host's count (a pinned CI runner has fewer).
    return len(os.sched_getaffinity(0)) * (100.0 - busy_percent) / 100.0


def _match(ref: _AlertRef) -> Callable[[dict[str, str]], bool]:
    return ref.matches


def _prom_state(snap: Snapshot, ref: _AlertRef) -> str:
    if snap.prometheus is None:
        return f"unreadable ({snap.errors.get('prometheus')})"
    found = snap.prom_alerts(_match(ref))
    return ", ".join(f"{a['state']} since {a['activeAt']}" for a in found) or "absent (not pending or firing)"


def _am_state(snap: Snapshot, ref: _AlertRef) -> str:
    if snap.alertmanager is None:
        return f"unreadable ({snap.errors.get('alertmanager')})"
    found = snap.am_alerts(_match(ref))
    out = []
    for a in found:
        status = a.get("status") or {}
        extra = f" inhibitedBy={status.get('inhibitedBy')}" if status.get("inhibitedBy") else ""
        extra += f" silencedBy={status.get('silencedBy')}" if status.get("silencedBy") else ""
        out.append(f"{status.get('state')}{extra}")
    return ", ".join(out) or "absent"


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _masked(text: str) -> str:
    return _NUMBER.sub("#", text)


def _is_for(ref: _AlertRef, delivery: dict[str, Any]) -> bool:
    """A delivery about this alert: it names the alert and every key label value."""
    if ref.alert not in (delivery.get("alertnames") or []):
        return False
    text = delivery_text(delivery)
    return all(v in text for v in ref.labels.values())


class _Run:
    """The state of one drill while it runs."""

    def __init__(self, ctx: DrillContext, scenario: Scenario) -> None:
        self.ctx, self.s = ctx, scenario
        self.obs = ctx.observer
        self.result = ScenarioResult(scenario.name, started=time.time())
        self.t0 = 0.0
        self.t_clear = 0.0
        self.done_steps: list[StackStep] = []
        self.undone: set[int] = set()
        self.blocked_until = 0.0
        self.descriptions: dict[int, str] = {}
        self.runbooks: dict[int, str] = {}
        self.fingerprints: set[str] = set()
        # After a step run once everything was notified: when every expected alert was seen
        # back in Alertmanager, and until when the drill keeps watching (see StackStep).
        self.back_in_alertmanager: float | None = None
        self.watch_until: float | None = None
        self.prometheus_restarted = False

    def say(self, message: str) -> None:
        self.ctx.progress(self.s.name, message)

    def states(self, ref: _AlertRef) -> dict[str, Any]:
        snap = self.obs.snapshot
        deliveries = [
            f"{delivery_path(d)} {d['status']} at {d['received_at']}"
            for d in self.obs.deliveries(self.t0 or self.result.started)
            if ref.alert in (d.get("alertnames") or [])
        ]
        return {
            "prometheus": _prom_state(snap, ref),
            "alertmanager": _am_state(snap, ref),
            "receiver": deliveries or "no notification of this alert",
        }

    def fail(self, ref: _AlertRef, hop: str, detail: str) -> DrillFailure:
        return DrillFailure(self.s.name, ref.describe(), hop, detail, self.states(ref))

    # --- phases ------------------------------------------------------------------------

    def baseline(self) -> None:
        refs: list[_AlertRef] = [*self.s.expect, *self.s.inhibited, *self.s.must_not_fire]
        want_firing = self.s.baseline == "firing"

        def healthy(snap: Snapshot) -> bool | None:
            if snap.prometheus is None:
                return None
            for ref in refs:
                active = snap.prom_alerts(_match(ref))
                if want_firing and ref in self.s.expect:
                    if not any(a["state"] == "firing" for a in active):
                        return None
                elif active:
                    return None
            return True

        # A drill with a known issue may never see its baseline (an alert that fires on healthy
        # traffic): do not hold the suite up for it.
        timeout = min(self.ctx.baseline_timeout, 10.0) if self.s.known_issue else self.ctx.baseline_timeout
        try:
            self.obs.wait_for(healthy, timeout, "healthy baseline")
        except TimeoutError as exc:
            bad = next((r for r in refs if self.obs.snapshot.prom_alerts(_match(r)) or want_firing), refs[0])
            raise self.fail(bad, "baseline", str(exc)) from exc

    def enough_cpu(self) -> None:
        """Refuse, before anything is injected, a drill this machine is too busy to judge."""
        needs = self.s.needs_idle_cores
        if needs is None:
            return
        idle = self.ctx.idle_cores()
        self.result.facts["idle_cores"] = round(idle, 2)
        if idle < needs:
            raise self.fail(
                self.s.expect[0],
                "machine too busy",
                f"refused to judge: {idle:.2f} idle CPU cores, this drill needs {needs:g} "
                "(its fault needs CPU time of its own); nothing was injected",
            )

    def floors(self) -> None:
        timers = self.ctx.timers
        now = time.time()
        # A step undone only after the alerts fire holds their notification back that long.
        hold = max((st.undo_after_seconds for st in self.s.stack if st.undo == "firing"), default=0.0)
        for exp in self.s.expect:
            keys = timers.group_keys(exp.alert, exp.labels)
            refire = any(now - self.ctx.seen_groups.get(k, -1e18) < RESOLVED_RETENTION_SECONDS for k in keys)
            floor = replace(
                timers.floor(exp.alert, exp.labels, refire=refire), signal=exp.signal_seconds, hold=hold
            )
            if self.s.baseline == "firing":
                floor = replace(
                    floor, already_firing=True, group_wait=timers.repeat_floor(exp.alert, exp.labels)
                )
            self.result.alerts.append(
                AlertResult(exp.alert, dict(exp.labels), exp.severity, list(exp.receivers), floor)
            )
            routed = timers.receivers(exp.alert, exp.labels)
            if routed != set(exp.receivers):
                raise self.fail(
                    exp,
                    "routing",
                    f"scenario expects {sorted(exp.receivers)}, alertmanager.yml routes to {sorted(routed)}",
                )
        for inh in self.s.inhibited:
            self.result.inhibited.append(InhibitedResult(inh.alert, dict(inh.labels)))
        for ref in [*self.s.expect, *self.s.inhibited, *self.s.side_effects]:
            for key in timers.group_keys(ref.alert, ref.labels):
                self.ctx.seen_groups[key] = now

    def inject(self) -> None:
        self.t0 = time.time()
        self.result.injected = self.t0
        for step in self.s.stack:
            if step.when == "inject":
                self.step(step)
        applying = time.time()
        for fault in self.s.inject:
            self.ctx.actions.inject(fault)
        # A fault is in place when the fault API answers; most answer at once, memory_pressure
        # once its memory is resident, which takes seconds on a busy VM. Its signal starts then.
        applied = time.time() - applying
        for r in self.result.alerts:
            r.floor = replace(r.floor, signal=r.floor.signal + applied)
        what = ", ".join(f"{f.fault}@{f.instance}" for f in self.s.inject) or ", ".join(
            f"{st.action} {st.component or ''}".strip() for st in self.s.stack
        )
        self.say(f"injected {what}" if what else "watching (already firing)")

    def step(self, step: StackStep) -> None:
        self.say(f"stack: {step.action} {step.component or ''}".rstrip())
        started = time.time()
        facts = self.ctx.actions.do(step)
        self.result.facts.update(facts)
        self.done_steps.append(step)
        self.blocked_until = time.time()
        if step.action == "restart" and step.component == "prometheus":
            # Evaluation stops while Prometheus restarts; alerts not firing yet fire that much later
            # (at least; track() takes the shift Prometheus gives their restored `for` state).
            self.prometheus_restarted = True
            for r in self.result.alerts:
                if r.firing is None:
                    r.floor = replace(r.floor, downtime=r.floor.downtime + self.blocked_until - started)
        self.result.facts.setdefault("steps", []).append(
            {
                "action": step.action,
                "component": step.component,
                "started": round(started - self.t0, 3),
                "done": round(self.blocked_until - self.t0, 3),
            }
        )

    def undo(self, step: StackStep) -> None:
        idx = id(step)
        if idx in self.undone:
            return
        self.undone.add(idx)
        self.say(f"stack: undo {step.action} {step.component or ''}".rstrip())
        started = time.time()
        facts = self.ctx.actions.undo(step)
        self.result.facts.update({f"undo_{k}": v for k, v in facts.items()})
        self.blocked_until = time.time()
        self.result.facts.setdefault("undos", []).append(
            {
                "action": step.action,
                "component": step.component,
                "started": round(started - self.t0, 3),
                "done": round(self.blocked_until - self.t0, 3),
            }
        )

    def follow(self) -> None:
        """Pending, firing, Alertmanager, notification (and the inhibited alerts)."""
        results = {id(e): r for e, r in zip(self.s.expect, self.result.alerts, strict=True)}
        inhibited = dict(zip(map(id, self.s.inhibited), self.result.inhibited, strict=True))
        margin = self.s.margin_seconds
        after_at: dict[str, float] = {}

        while True:
            snap = self.obs.next_snapshot(self.obs.snapshot.at)
            now = snap.at
            self.check_absent(snap)
            all_pending = all_firing = True
            all_notified = True
            for exp in self.s.expect:
                r = results[id(exp)]
                self.track(exp, r, snap)
                all_pending &= r.pending is not None
                all_firing &= r.firing is not None
                all_notified &= r.to_notification is not None
            for inh in self.s.inhibited:
                self.track_inhibited(inh, inhibited[id(inh)], snap)
            triggers = (("pending", all_pending), ("firing", all_firing), ("notified", all_notified))
            for trigger, ready in triggers:
                if ready and trigger not in after_at:
                    after_at[trigger] = now
                    for step in self.s.stack:
                        if step.when == trigger:
                            self.step(step)
            if all_firing:
                for step in self.done_steps:
                    if step.undo == "firing" and now >= after_at["firing"] + step.undo_after_seconds:
                        self.undo(step)
            watching = any(st.when == "notified" for st in self.s.stack)
            if watching and "notified" in after_at:
                self.watch_after_notified(snap, after_at["notified"])
            watched = not watching or (self.watch_until is not None and now >= self.watch_until)
            if self.complete(results, inhibited) and watched:
                if self.watch_until is not None:
                    self.result.facts["watched_after_notified_steps"] = round(now - self.blocked_until, 3)
                return
            start = max(self.t0, self.blocked_until)
            for exp in self.s.expect:
                r = results[id(exp)]
                if now - start > r.floor.notified + margin and r.to_notification is None:
                    raise self.fail(
                        exp,
                        self.first_missing(r),
                        f"not reached within floor {r.floor.notified:.1f} s + margin {margin:g} s",
                    )
            for inh in self.s.inhibited:
                ir = inhibited[id(inh)]
                floor = self.ctx.timers.floor(inh.alert, inh.labels)
                if now - start > floor.notified + margin:
                    hop = "firing" if ir.fired is None else "inhibited in Alertmanager"
                    raise self.fail(
                        inh, hop, f"inhibited alert not seen {hop} within {floor.notified + margin:.1f} s"
                    )

    def watch_after_notified(self, snap: Snapshot, notified_at: float) -> None:
        """Keep the fault on after a ``notified`` step until every expected alert is back in
        Alertmanager and one more group cycle has passed (a duplicate would have shown)."""
        if self.back_in_alertmanager is None:
            back = all(
                any((a.get("status") or {}).get("state") == "active" for a in snap.am_alerts(_match(exp)))
                for exp in self.s.expect
            )
            if back and snap.at > self.blocked_until:
                self.back_in_alertmanager = snap.at
                self.result.facts["back_in_alertmanager"] = round(snap.at - self.t0, 3)
                cycle = max(r.floor.group_wait + r.floor.group_interval for r in self.result.alerts)
                self.watch_until = snap.at + cycle + 2 * self.obs.interval
                self.say(
                    f"back in Alertmanager; watching for duplicates until +{self.watch_until - self.t0:.1f} s"
                )
            elif snap.at - max(notified_at, self.blocked_until) > self.s.margin_seconds:
                exp = self.s.expect[0]
                raise self.fail(
                    exp,
                    "alertmanager after the step",
                    f"not back in Alertmanager within {self.s.margin_seconds:g} s of the step",
                )

    def first_missing(self, r: AlertResult) -> str:
        for hop, value in (("pending", r.pending), ("firing", r.firing), ("alertmanager", r.alertmanager)):
            if value is None:
                return hop
        missing = [rc for rc in r.receivers if rc not in r.notified]
        return f"notification at {', '.join(missing)}"

    def track(self, exp: ExpectedAlert, r: AlertResult, snap: Snapshot) -> None:
        found = snap.prom_alerts(_match(exp))
        for a in found:
            if r.pending is None:
                r.pending = parse_time(a["activeAt"]) - self.t0 if self.s.baseline == "clear" else 0.0
                self.say(f"{r.name} pending at {r.pending:.1f} s")
            if a["state"] == "firing" and r.firing is None:
                r.firing = snap.at - self.t0 if self.s.baseline == "clear" else 0.0
                seen_at = self.result.facts.get("active_at_seen", {}).get(r.name, [])
                if self.prometheus_restarted and seen_at:
                    # Prometheus restores a pending alert's `for` shifted by the time it did not
                    # evaluate (from its last evaluation before the stop to its first after the
                    # start): the shift of activeAt is the downtime that counts.
                    shift = parse_time(a["activeAt"]) - parse_time(seen_at[0])
                    r.floor = replace(r.floor, downtime=max(r.floor.downtime, shift))
                self.descriptions[id(exp)] = normalise(str(a["annotations"].get("description", "")))
                self.runbooks[id(exp)] = str(a["annotations"].get("runbook_url", ""))
                self.say(f"{r.name} firing at {r.firing:.1f} s")
        seen = self.result.facts.setdefault("active_at_seen", {}).setdefault(r.name, [])
        for a in found:
            if a["activeAt"] not in seen:
                seen.append(a["activeAt"])
        for a in snap.am_alerts(_match(exp)):
            self.fingerprints.add(str(a.get("fingerprint")))
            if r.alertmanager is None and (a.get("status") or {}).get("state") == "active":
                r.alertmanager = snap.at - self.t0
                self.say(f"{r.name} active in Alertmanager at {r.alertmanager:.1f} s")
        self.record_inhibited_by_us(snap)
        for d in self.obs.deliveries(self.t0):
            path = delivery_path(d)
            if d["status"] != "firing" or path not in exp.receivers or not _is_for(exp, d):
                continue
            if path not in r.notified:
                r.notified[path] = parse_time(str(d["received_at"])) - self.t0
                self.check_text(exp, r, d)
                self.say(f"{r.name} notified at {path} at {r.notified[path]:.1f} s")

    def record_inhibited_by_us(self, snap: Snapshot) -> None:
        """Which alerts the expected ones inhibit (to prove an inhibition stays within its
        scope, e.g. BackendDown mutes only its own instance)."""
        muted = self.result.facts.setdefault("inhibited_by_expected", [])
        for a in snap.alertmanager or []:
            by = set((a.get("status") or {}).get("inhibitedBy") or [])
            if by & self.fingerprints:
                labels = a["labels"]
                entry = {
                    k: labels[k] for k in ("alertname", "instance", "job", "tool", "agent") if k in labels
                }
                if entry not in muted:
                    muted.append(entry)

    def check_text(self, exp: ExpectedAlert, r: AlertResult, delivery: dict[str, Any]) -> None:
        text = delivery_text(delivery)
        desc = self.descriptions.get(id(exp), "")
        runbook = self.runbooks.get(id(exp), "")
        # Values in descriptions ({{ $value }}) change between evaluations: compare the words.
        ok = bool(desc) and _masked(desc) in _masked(text) and bool(runbook) and runbook in text
        r.text_ok = ok if r.text_ok is None else (r.text_ok and ok)
        if not ok:
            raise self.fail(
                exp,
                f"notification text at {delivery_path(delivery)}",
                f"rendered text lacks the description {desc!r} or the runbook {runbook!r}: {text[:400]!r}",
            )

    def track_inhibited(self, inh: _AlertRef, ir: InhibitedResult, snap: Snapshot) -> None:
        if ir.fired is None and any(a["state"] == "firing" for a in snap.prom_alerts(_match(inh))):
            ir.fired = snap.at - self.t0
            self.say(f"{inh.describe()} firing (to be inhibited) at {ir.fired:.1f} s")
        for a in snap.am_alerts(_match(inh)):
            by = (a.get("status") or {}).get("inhibitedBy") or []
            if by and ir.inhibited_in_alertmanager is None:
                ir.inhibited_in_alertmanager = snap.at - self.t0
                ir.inhibited_by = list(by)

    def complete(self, results: dict[int, AlertResult], inhibited: dict[int, InhibitedResult]) -> bool:
        if any(r.to_notification is None for r in results.values()):
            return False
        for inh in self.s.inhibited:
            ir = inhibited[id(inh)]
            if inh.must_fire and (ir.fired is None or ir.inhibited_in_alertmanager is None):
                return False
        return True

    def check_absent(self, snap: Snapshot) -> None:
        for ref in self.s.must_not_fire:
            for a in snap.prom_alerts(_match(ref)):
                msg = f"{ref.describe()} was {a['state']} (active since {a['activeAt']})"
                if msg not in self.result.violations:
                    self.result.violations.append(msg)

    def clear(self) -> list[str]:
        """Switch everything off (also after a failure); returns cleanup problems."""
        self.t_clear = time.time()
        self.result.cleared = self.t_clear
        problems: list[str] = []
        for fault in self.s.inject:
            problems += self.ctx.actions.clear(fault)
        for step in reversed(self.done_steps):
            if step.undo != "never":
                try:
                    self.undo(step)
                except Exception as exc:  # report every cleanup problem
                    problems.append(f"undo {step.action} {step.component or ''}: {exc}")
        for step in self.s.stack:
            if step.when == "clear":
                # Requests already in flight under the fault must not undo the step; they end
                # on their own, nothing to poll for.
                time.sleep(max(0.0, self.t_clear + step.after_clear_seconds - time.time()))
                try:
                    self.step(step)
                except Exception as exc:
                    problems.append(f"{step.action} {step.component or ''} at clear: {exc}")
        if self.s.inject:
            self.say("cleared")
        return problems

    def follow_resolution(self) -> None:
        results = dict(zip(map(id, self.s.expect), self.result.alerts, strict=True))
        margin = self.s.margin_seconds
        start = time.time()
        pending = [e for e in self.s.expect if e.resolves]
        gone_inhibited: set[int] = set()
        released = False
        while True:
            snap = self.obs.next_snapshot(self.obs.snapshot.at)
            if not released:
                # Once released, another drill may disturb these resources: nothing to hold it to.
                self.check_absent(snap)
            for exp in pending:
                r = results[id(exp)]
                if (
                    r.resolved_prometheus is None
                    and snap.prometheus is not None
                    and not snap.prom_alerts(_match(exp))
                ):
                    r.resolved_prometheus = snap.at - self.t_clear
                    self.say(f"{r.name} resolved in Prometheus at {r.resolved_prometheus:.1f} s")
                for d in self.obs.deliveries(self.t0 + min(r.notified.values(), default=0.0)):
                    path = delivery_path(d)
                    if (
                        d["status"] == "resolved"
                        and path in exp.receivers
                        and path not in r.resolved
                        and _is_for(exp, d)
                    ):
                        r.resolved[path] = parse_time(str(d["received_at"])) - self.t_clear
                        self.say(f"{r.name} resolved notification at {path} at {r.resolved[path]:.1f} s")
            for inh in self.s.inhibited:
                if snap.prometheus is not None and not snap.prom_alerts(_match(inh)):
                    gone_inhibited.add(id(inh))
            gone = all(results[id(e)].resolved_prometheus is not None for e in pending)
            if not released and gone and len(gone_inhibited) == len(self.s.inhibited):
                released = True
                self.result.facts["released_resources"] = round(snap.at - self.t_clear, 3)
                self.ctx.release(self.s.name)
            done = all(results[id(e)].to_resolved is not None for e in pending)
            if done and len(gone_inhibited) == len(self.s.inhibited):
                return
            waited = snap.at - max(start, self.blocked_until)
            for exp in pending:
                r = results[id(exp)]
                bound = r.floor.resolved + margin
                if waited > bound and r.to_resolved is None:
                    hop = (
                        "resolved in Prometheus" if r.resolved_prometheus is None else "resolved notification"
                    )
                    raise self.fail(
                        exp, hop, f"not reached within floor {r.floor.resolved:.1f} s + margin {margin:g} s"
                    )
            for inh in self.s.inhibited:
                bound = self.ctx.timers.floor(inh.alert, inh.labels).resolved + margin
                if id(inh) not in gone_inhibited and waited > bound:
                    raise self.fail(
                        inh, "inhibited alert resolved", f"still active {bound:.1f} s after clearing"
                    )

    def count_notifications(self) -> None:
        """Firing notifications per receiver (for "exactly once") and any notification of an
        inhibited alert, counted after one more group interval so late flushes are seen."""
        must_stay_quiet = self.s.inhibited or any(e.max_notifications for e in self.s.expect)
        if must_stay_quiet:
            grace = max((r.floor.group_interval for r in self.result.alerts), default=1.0)
            # Proving that nothing more arrives takes waiting; one group tick is the longest a
            # pending flush can take.
            time.sleep(grace + 2 * self.obs.interval)
        deliveries = self.obs.deliveries(self.t0)
        for exp, r in zip(self.s.expect, self.result.alerts, strict=True):
            for path in exp.receivers:
                r.notifications[path] = sum(
                    1
                    for d in deliveries
                    if d["status"] == "firing" and delivery_path(d) == path and _is_for(exp, d)
                )
            if exp.max_notifications is not None:
                for path, n in r.notifications.items():
                    if n > exp.max_notifications:
                        most = exp.max_notifications
                        self.result.violations.append(
                            f"{r.name}: {n} firing notifications at {path}, at most {most} expected"
                        )
        # An inhibited alert must stay silent for the whole drill: while the fault is on and
        # while everything resolves (a critical that inhibits a warning sibling keeps firing
        # until the sibling has resolved, so the sibling is never left uninhibited and firing).
        for inh, ir in zip(self.s.inhibited, self.result.inhibited, strict=True):
            notified = [d for d in deliveries if _is_for(inh, d)]
            ir.notifications = len(notified)
            if notified:
                where = ", ".join(
                    f"{delivery_path(d)} {d['status']} at {d['received_at']} "
                    f"({'before' if parse_time(str(d['received_at'])) < self.t_clear else 'after'} clearing)"
                    for d in notified
                )
                self.result.violations.append(f"inhibited alert {inh.describe()} was notified: {where}")


def run_scenario(ctx: DrillContext, scenario: Scenario) -> ScenarioResult:
    """Run one drill; never raises for a broken hop (the result says what broke)."""
    run = _Run(ctx, scenario)
    run.result.known_issue = scenario.known_issue
    try:
        run.say("checking the baseline")
        run.baseline()
        run.enough_cpu()
        run.floors()
        try:
            run.inject()
            run.follow()
        finally:
            problems = run.clear()
            run.result.violations.extend(problems)
        if scenario.baseline == "clear":
            run.follow_resolution()
        run.count_notifications()
    except DrillFailure as exc:
        run.result.error = str(exc)
        run.result.failed_hop = exc.hop
        run.say(f"FAILED at hop '{exc.hop}'")
    except Exception as exc:  # one broken drill must not stop the suite
        run.result.error = f"{type(exc).__name__}: {exc}"
        run.result.failed_hop = "drill machinery"
        run.say(f"FAILED: {run.result.error}")
    run.result.finished = time.time()
    if run.result.ok:
        run.say(f"passed in {run.result.duration:.1f} s")
    return run.result
