"""The load generator: steady agent traffic plus the traffic modes, per target.

Steady traffic is open-loop at ``rate`` runs/s over all targets (round-robin), each
run a real SSE client reading the whole stream. Runs start on schedule whether or not
earlier ones have ended, as real users keep arriving when a backend slows down; only
``max_in_flight`` bounds them, and a run that would exceed it is dropped and counted
in ``loadgen_runs_dropped_total{mode}``. Each target has its own prompt schedule, so
every instance gets the mix's exact shares. Steady runs are turns of multi-turn
conversations (:mod:`sample_backend.loadgen.conversations`): the same thread and a
growing transcript for ``conversation_turns_min..max`` turns, ``think_seconds`` apart.

Traffic modes are polled from each target's ``GET /admin/faults`` every
``poll_interval_seconds``; while ``auth_failure_spike``, ``guardrail_attack`` or
``forbidden_admin_tool`` is active on a target, that traffic goes to that target at
the mode's ``rate`` (requests/s). One fault API therefore drives every scenario.

Usage::

    gen = LoadGenerator(settings, LoadgenMetrics(registry))
    await gen.start()
    ...
    await gen.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
import urllib.parse
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import httpx

from sample_backend.loadgen.client import RunResult, run_agent
from sample_backend.loadgen.conversations import Conversation, ConversationPool
from sample_backend.loadgen.metrics import MODES, LoadgenMetrics
from sample_backend.loadgen.prompts import FORBIDDEN_ADMIN_PROMPTS, GUARDRAIL_PROMPTS, Schedule
from sample_backend.loadgen.settings import LoadgenSettings

__all__ = ["TRAFFIC_MODES", "LoadGenerator"]

log = logging.getLogger(__name__)

TRAFFIC_MODES = MODES[1:]
# How long stop() lets in-flight runs finish before cancelling them.
STOP_GRACE_SECONDS = 5.0


def _label(target: str) -> str:
    """host:port of a target URL, the ``target`` label (bounded by configuration)."""
    return urllib.parse.urlsplit(target).netloc


async def _paced(rate: Callable[[], float], stop: asyncio.Event, fire: Callable[[], Awaitable[None]]) -> None:
    """Call ``fire`` ``rate()`` times a second until ``stop``; ``rate`` is re-read every tick.

    ``fire`` only launches work, it never waits for it, so the pace holds however slow
    the runs are.
    """
    next_at = time.monotonic()
    while not stop.is_set():
        await fire()
        next_at += 1.0 / max(rate(), 1e-3)
        now = time.monotonic()
        # Behind by more than a second (a blocked fire): restart the clock, don't burst.
        if next_at < now - 1.0:
            next_at = now
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(0.0, next_at - now))


class LoadGenerator:
    """Steady traffic and polled traffic modes against every configured target."""

    def __init__(self, settings: LoadgenSettings, metrics: LoadgenMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.targets = settings.target_urls
        # target -> {mode: rate} of the traffic modes its fault API reports active.
        self.modes: dict[str, dict[str, float]] = {t: {} for t in self.targets}
        # None until the first poll, so the first failure is logged too.
        self.poll_ok: dict[str, bool | None] = dict.fromkeys(self.targets)
        self.counts: dict[tuple[str, str, str], int] = {}
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._attacks: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._runs: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        # Runs in flight: steady over all targets, attack traffic per target.
        self._steady_in_flight = 0
        self._attack_in_flight = dict.fromkeys(self.targets, 0)
        self.conversations = ConversationPool(
            turns=(settings.conversation_turns_min, settings.conversation_turns_max),
            think_seconds=settings.think_seconds,
        )
        for target in self.targets:
            metrics.conversations.labels(target=_label(target))
            for mode in TRAFFIC_MODES:
                metrics.mode_active.labels(target=_label(target), mode=mode).set(0)
        for mode in MODES:
            metrics.dropped.labels(mode=mode)

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        s = self.settings
        pool = s.max_in_flight + len(self.targets) * (s.attack_concurrency + 2)
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(s.run_timeout_seconds, connect=5.0),
            limits=httpx.Limits(max_connections=pool, max_keepalive_connections=pool),
        )
        self._stop.clear()
        self._tasks.append(asyncio.create_task(self._steady(), name="loadgen-steady"))
        if s.admin_token:
            for target in self.targets:
                self._tasks.append(asyncio.create_task(self._poll(target), name=f"loadgen-poll-{target}"))
        else:
            log.warning("LOADGEN_ADMIN_TOKEN is empty: traffic modes are off (no fault API to poll)")
        log.info(
            "load generator started",
            extra={"targets": list(self.targets), "rate": s.rate, "max_in_flight": s.max_in_flight},
        )

    async def stop(self) -> None:
        """Stop scheduling, let in-flight runs finish for a moment, then cancel the rest."""
        self._stop.set()
        tasks = [*self._tasks, *self._attacks.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._attacks.clear()
        if self._runs:
            _, pending = await asyncio.wait(set(self._runs), timeout=STOP_GRACE_SECONDS)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        log.info("load generator stopped")

    # --- steady traffic -----------------------------------------------------------------

    async def _steady(self) -> None:
        schedules = {t: Schedule() for t in self.targets}
        targets = itertools.cycle(self.targets)

        async def fire() -> None:
            target = next(targets)
            prompt = schedules[target].next()
            if self._steady_in_flight >= self.settings.max_in_flight:
                self.metrics.dropped.labels(mode="steady").inc()
                return
            conv = self.conversations.take(target, prompt.role)
            if conv.turns_done == 0:
                self.metrics.conversations.labels(target=_label(target)).inc()
            token = self.settings.admin_token if prompt.role == "admin" else self.settings.user_token
            self._steady_in_flight += 1
            self._spawn(self._turn(conv, prompt.text, token))

        await _paced(lambda: self.settings.rate, self._stop, fire)

    async def _turn(self, conv: Conversation, text: str, token: str) -> None:
        """One turn of a steady conversation; the conversation carries its answer on."""
        answer: str | None = None
        try:
            result = await self._one(conv.target, "steady", text, token, None, conv.input(text))
            answer = result.answer if result.outcome == "finished" else None
        finally:
            self._steady_in_flight -= 1
            self.conversations.finish(conv, text, answer)

    # --- traffic modes ------------------------------------------------------------------

    async def _poll(self, target: str) -> None:
        assert self._client is not None
        headers = {"Authorization": f"Bearer {self.settings.admin_token}"}
        while not self._stop.is_set():
            active: dict[str, float] = {}
            try:
                response = await self._client.get(f"{target}/admin/faults", headers=headers, timeout=5.0)
                if response.status_code != 200:
                    self._poll_failed(target, f"http_{response.status_code}")
                else:
                    active = self._traffic_modes(response.json())
                    if self.poll_ok[target] is False:
                        log.info("fault API of %s answering again", target)
                    self.poll_ok[target] = True
            except (httpx.HTTPError, ValueError) as exc:
                self._poll_failed(target, "network_error" if isinstance(exc, httpx.HTTPError) else "bad_json")
            self._reconcile(target, active)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.settings.poll_interval_seconds)

    def _poll_failed(self, target: str, reason: str) -> None:
        # A bounded reason set: http_<status> of a real HTTP answer, network_error, bad_json.
        self.metrics.poll_errors.labels(target=_label(target), reason=reason).inc()
        if self.poll_ok[target] is not False:
            log.warning("fault API of %s not answering (%s); traffic modes off", target, reason)
        self.poll_ok[target] = False

    @staticmethod
    def _traffic_modes(body: Any) -> dict[str, float]:
        faults = body.get("faults") if isinstance(body, dict) else None
        active: dict[str, float] = {}
        for fault in faults if isinstance(faults, list) else []:
            if (
                not isinstance(fault, dict)
                or fault.get("name") not in TRAFFIC_MODES
                or not fault.get("active")
            ):
                continue
            rate = (fault.get("params") or {}).get("rate")
            if isinstance(rate, int | float) and not isinstance(rate, bool) and rate > 0:
                active[fault["name"]] = float(rate)
        return active

    def _reconcile(self, target: str, active: dict[str, float]) -> None:
        """Start attack loops for modes that came on, stop those that went off."""
        self.modes[target] = active
        for mode in TRAFFIC_MODES:
            key = (target, mode)
            running = key in self._attacks
            self.metrics.mode_active.labels(target=_label(target), mode=mode).set(1 if mode in active else 0)
            if mode in active and not running:
                log.info("traffic mode %s on for %s at %.1f/s", mode, target, active[mode])
                self._attacks[key] = asyncio.create_task(self._attack(target, mode), name=f"{mode}-{target}")
            elif mode not in active and running:
                log.info("traffic mode %s off for %s", mode, target)
                self._attacks.pop(key).cancel()

    async def _attack(self, target: str, mode: str) -> None:
        n = itertools.count()

        async def fire() -> None:
            if self._attack_in_flight[target] >= self.settings.attack_concurrency:
                self.metrics.dropped.labels(mode=mode).inc()
                return
            i = next(n)
            token: str | None = self.settings.user_token
            authorization = None
            if mode == "auth_failure_spike":
                # Missing, unknown and malformed credentials, as a credential-stuffing bot sends.
                variants = (None, f"Bearer invalid-{uuid.uuid4().hex[:12]}", "Basic ZGV2OmRldg==")
                text, token, authorization = "Hello there!", None, variants[i % 3]
            elif mode == "guardrail_attack":
                text = GUARDRAIL_PROMPTS[i % len(GUARDRAIL_PROMPTS)]
            else:
                text = FORBIDDEN_ADMIN_PROMPTS[i % len(FORBIDDEN_ADMIN_PROMPTS)]
            self._attack_in_flight[target] += 1
            self._spawn(self._attack_one(target, mode, text, token, authorization))

        await _paced(lambda: self.modes[target].get(mode, 1.0), self._stop, fire)

    async def _attack_one(
        self, target: str, mode: str, text: str, token: str | None, authorization: str | None
    ) -> None:
        try:
            await self._one(target, mode, text, token, authorization)
        finally:
            self._attack_in_flight[target] -= 1

    # --- running one request ------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` in the background; stop() waits for it (then cancels it)."""
        task = asyncio.create_task(work)
        self._runs.add(task)
        task.add_done_callback(self._runs.discard)

    async def _one(
        self,
        target: str,
        mode: str,
        text: str,
        token: str | None,
        authorization: str | None,
        body: dict[str, Any] | None = None,
    ) -> RunResult:
        assert self._client is not None
        self.metrics.in_flight.labels(mode=mode).inc()
        start = time.perf_counter()
        try:
            result = await run_agent(
                self._client,
                target,
                text,
                token=token,
                max_seconds=self.settings.run_timeout_seconds,
                authorization=authorization,
                body=body,
            )
            self._record(target, mode, result, time.perf_counter() - start)
            return result
        finally:
            self.metrics.in_flight.labels(mode=mode).dec()

    def _record(self, target: str, mode: str, result: RunResult, seconds: float) -> None:
        label = _label(target)
        self.metrics.runs.labels(target=label, mode=mode, outcome=result.outcome).inc()
        self.metrics.duration.labels(target=label, mode=mode).observe(seconds)
        key = (target, mode, result.outcome)
        self.counts[key] = self.counts.get(key, 0) + 1

    def status(self) -> dict[str, Any]:
        """What the generator is doing, for ``GET /status``."""
        return {
            "rate": self.settings.rate,
            "max_in_flight": self.settings.max_in_flight,
            "conversations": {"started": self.conversations.started, "idle": self.conversations.idle()},
            "targets": {t: {"fault_api_ok": self.poll_ok[t], "modes": self.modes[t]} for t in self.targets},
            "runs": [
                {"target": t, "mode": m, "outcome": o, "count": c}
                for (t, m, o), c in sorted(self.counts.items())
            ],
        }
