"""Run many drills against one stack, concurrently where they cannot interfere.

Two drills run at the same time only when their ``resources`` do not overlap and neither is
``exclusive``. A drill holds its resources until its faults are off and its alerts have left
Prometheus; its resolved notifications, which no fault can disturb, may then arrive while the
next drill on those resources runs (exclusive drills hold everything to their end). A drill that
stops a component is the exception: the alert it fires (BackendDown) inhibits every other alert
of that instance, and Alertmanager drops a resolved notification it mutes, so such a drill also
waits for the end of the released drills it conflicts with. A drill also
waits for every drill that expects a notification from an Alertmanager group it would otherwise
open first (its inhibited alerts and side effects): an alert joining a live group is held back
until the group's next tick.

Usage::

    with DrillSession.attach(stack) as session:
        suite = session.run(catalog.select(["backend-5xx", "db-down"]))
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import ExitStack, suppress
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from stack.clients import BackendAdmin
from stack.drills.actions import Actions, StackControl
from stack.drills.engine import DrillContext, GroupKey, run_scenario
from stack.drills.floors import RESOLVED_RETENTION_SECONDS, Timers
from stack.drills.model import Scenario
from stack.drills.observe import Observer
from stack.drills.report import ScenarioResult, SuiteResult

__all__ = ["DrillSession", "order_constraints", "run_concurrently"]

GROUPS_FILE = "drill-groups.json"
# How often the scheduler looks for drills that released their resources.
RELEASE_POLL_SECONDS = 0.25


def order_constraints(scenarios: Sequence[Scenario], timers: Timers) -> dict[str, set[str]]:
    """``{b: {a, ...}}``: drill ``b`` must start after ``a`` finished, because ``b`` opens
    (as a side effect or an inhibited alert) an Alertmanager group ``a`` expects a notification
    from, or one of an alert ``a`` proves is never notified (``b``'s own notifications of it would
    count against ``a``). Later drills in the list never hold back earlier ones (no cycles)."""
    # The groups a drill watches: those it expects a notification from, and those of alerts it
    # proves are never notified.
    watched: dict[str, set[GroupKey]] = {}
    touches: dict[str, set[GroupKey]] = {}
    for s in scenarios:
        watched[s.name] = {
            k for ref in [*s.expect, *s.inhibited] for k in timers.group_keys(ref.alert, ref.labels)
        }
        touches[s.name] = {
            k for ref in [*s.inhibited, *s.side_effects] for k in timers.group_keys(ref.alert, ref.labels)
        }
    after: dict[str, set[str]] = {s.name: set() for s in scenarios}
    for i, b in enumerate(scenarios):
        for a in scenarios:
            if a is b:
                continue
            opens_its_group = bool(touches[b.name] & watched[a.name])
            # Two drills watching the same group: the later one in the list waits.
            same_group_later = bool(watched[b.name] & watched[a.name]) and scenarios.index(a) < i
            if opens_its_group or same_group_later:
                after[b.name].add(a.name)
    _break_cycles(scenarios, after)
    return after


def _break_cycles(scenarios: Sequence[Scenario], after: dict[str, set[str]]) -> None:
    """Drop constraints that would deadlock, keeping those that follow the list order."""
    position = {s.name: i for i, s in enumerate(scenarios)}
    for name, before in after.items():
        for other in list(before):
            if name in after.get(other, set()) and position[other] > position[name]:
                before.discard(other)


class DrillSession:
    """The observer, clients and timers of one running stack, for running drills."""

    def __init__(
        self,
        stack: StackControl,
        timers: Timers,
        observer: Observer,
        actions: Actions,
        factor: float,
        progress: Callable[[str, str], None] | None = None,
        max_parallel: int = 12,
    ) -> None:
        self.stack, self.timers, self.observer, self.actions = stack, timers, observer, actions
        self.factor, self.max_parallel = factor, max_parallel
        self.progress = progress or (lambda scenario, message: None)
        self.ctx = DrillContext(timers, observer, actions, factor, progress=self.progress)
        self._exit = ExitStack()
        self._groups_path = Path(stack.run_dir) / GROUPS_FILE

    @classmethod
    def attach(
        cls, stack: Any, progress: Callable[[str, str], None] | None = None, max_parallel: int = 12
    ) -> DrillSession:
        """A session on a :class:`~stack.native.NativeStack` (started or attached)."""
        prometheus, alertmanager, receiver = stack.prometheus(), stack.alertmanager(), stack.receiver()
        backends: dict[str, BackendAdmin] = {name: stack.backend(name) for name in ("backend-1", "backend-2")}
        observer = Observer(prometheus, alertmanager, receiver)
        actions = Actions(stack, backends, receiver, prometheus)
        timers = Timers.for_run_dir(Path(stack.run_dir))
        session = cls(stack, timers, observer, actions, float(stack.settings.factor), progress, max_parallel)
        for client in (prometheus, alertmanager, receiver, *backends.values()):
            session._exit.callback(client.close)
        return session

    def __enter__(self) -> Self:
        self.observer.__enter__()
        self._exit.callback(self.observer.__exit__, None, None, None)
        self._load_groups()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._save_groups()
        self._exit.close()

    # --- Alertmanager groups seen by earlier runs on the same stack ----------------------

    def _am_identity(self) -> str:
        ref = getattr(self.stack, "processes", {}).get("alertmanager")
        return f"{ref.pid}:{ref.create_time}" if ref is not None else "unknown"

    def _load_groups(self) -> None:
        try:
            doc = json.loads(self._groups_path.read_text())
        except (OSError, ValueError):
            return
        if doc.get("alertmanager") != self._am_identity():
            return  # another Alertmanager process: its groups are gone
        now = time.time()
        for item in doc.get("groups", []):
            if now - float(item["at"]) < RESOLVED_RETENTION_SECONDS:
                self.ctx.seen_groups[_tuple(item["key"])] = float(item["at"])

    def _save_groups(self) -> None:
        doc = {
            "alertmanager": self._am_identity(),
            "groups": [{"key": list(k), "at": at} for k, at in self.ctx.seen_groups.items()],
        }
        with suppress(OSError):
            self._groups_path.write_text(json.dumps(doc))

    # --- running ---------------------------------------------------------------------

    def estimate(self, scenario: Scenario) -> float:
        """Rough length of a drill from its floors: the slowest alert to notify (inhibited
        ones must fire too) plus the slowest to resolve. The margin is a bound, not an expected
        delay: adding it ranks drills with generous margins (stack faults) ahead of the long
        chains of drills on one instance, which measurably lengthens the suite."""
        refs = [*scenario.expect, *scenario.inhibited]
        floors = [self.timers.floor(r.alert, r.labels) for r in refs]
        return max(f.notified for f in floors) + max(f.resolved for f in floors)

    def run_one(self, scenario: Scenario) -> ScenarioResult:
        return run_scenario(self.ctx, scenario)

    def run(self, scenarios: Sequence[Scenario]) -> SuiteResult:
        """Every drill, concurrently where allowed; returns when all have finished."""
        t0 = time.monotonic()
        after = order_constraints(scenarios, self.timers)
        # Longest drills first (they set the suite's length), exclusive ones after all others
        # (nothing can overlap them anyway); ties keep the catalog order.
        planned = sorted(scenarios, key=lambda s: (s.exclusive, -self.estimate(s)))
        released: set[str] = set()
        lock = threading.Lock()

        def release(name: str) -> None:
            with lock:
                released.add(name)

        self.ctx.release = release
        finished = run_concurrently(planned, self.run_one, after, self.max_parallel, released, lock)
        return SuiteResult([finished[s.name] for s in scenarios], time.monotonic() - t0, self.factor)


def run_concurrently(
    scenarios: Sequence[Scenario],
    run_one: Callable[[Scenario], ScenarioResult],
    after: dict[str, set[str]],
    max_parallel: int = 12,
    released: set[str] | None = None,
    lock: threading.Lock | None = None,
) -> dict[str, ScenarioResult]:
    """Start each drill, in list order, as soon as no running drill holding its resources
    conflicts with it and every drill it must follow has finished. A running drill whose name
    ``run_one`` has added to ``released`` (under ``lock``) no longer holds its resources."""
    released = set() if released is None else released
    lock = lock or threading.Lock()
    waiting = list(scenarios)
    running: dict[Future[ScenarioResult], Scenario] = {}
    finished: dict[str, ScenarioResult] = {}
    with ThreadPoolExecutor(max_workers=max_parallel, thread_name_prefix="drill") as pool:
        while waiting or running:
            with lock:
                # An exclusive drill stops or fails part of the notification path: it holds
                # everything to its end, and starts only once every other drill has ended.
                holding = [r for r in running.values() if r.exclusive or r.name not in released]
            for s in list(waiting):
                if len(running) >= max_parallel:
                    break
                # A stopped component's alert would mute a released drill's resolution (see above).
                others = running.values() if s.exclusive or s.stack else holding
                busy = any(s.conflicts_with(r) for r in others)
                if busy or not after.get(s.name, set()) <= finished.keys():
                    continue
                waiting.remove(s)
                running[pool.submit(run_one, s)] = s
                holding.append(s)
                if s.exclusive:
                    break
            if not running:
                # Only unsatisfiable ordering is left: run the first in list order.
                s = waiting.pop(0)
                running[pool.submit(run_one, s)] = s
            # A release does not end a future: look again every so often.
            done, _ = wait(running, timeout=RELEASE_POLL_SECONDS, return_when=FIRST_COMPLETED)
            for fut in done:
                s = running.pop(fut)
                finished[s.name] = fut.result()
    return finished


def _tuple(value: Any) -> Any:
    return tuple(_tuple(v) for v in value) if isinstance(value, list) else value
