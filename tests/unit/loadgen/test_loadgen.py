"""The load generator against a served stand-in of the backend: steady traffic, whole
streams, traffic modes switched on and off through the (real) fault API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest
from prometheus_client import CollectorRegistry

from sample_backend.loadgen import LoadGenerator, LoadgenMetrics, LoadgenSettings
from sample_backend.loadgen.prompts import FORBIDDEN_ADMIN_PROMPTS, GUARDRAIL_PROMPTS
from tests.support.servers import serve
from tests.unit.loadgen.standin import ADMIN_TOKEN, USER_TOKEN, StandIn


@pytest.fixture
def standin() -> Iterator[tuple[StandIn, str]]:
    state = StandIn()
    with serve(state.app()) as url:
        yield state, url
    state.registry.close()


def settings(url: str, **overrides: object) -> LoadgenSettings:
    values: dict[str, object] = {
        "targets": url,
        "rate": 25.0,
        "user_token": USER_TOKEN,
        "admin_token": ADMIN_TOKEN,
        "poll_interval_seconds": 0.1,
        **overrides,
    }
    return LoadgenSettings(**values)  # type: ignore[arg-type]


async def until(what: str, cond: Callable[[], bool], within: float = 8.0) -> None:
    deadline = time.monotonic() + within
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {within} s")
        await asyncio.sleep(0.05)


def test_steady_traffic_reads_whole_streams(standin: tuple[StandIn, str]) -> None:
    state, url = standin
    registry = CollectorRegistry()
    gen = LoadGenerator(settings(url), LoadgenMetrics(registry))

    async def main() -> None:
        await gen.start()
        try:
            await until("20 finished runs", lambda: gen.counts.get((url, "steady", "finished"), 0) >= 20)
        finally:
            await gen.stop()

    asyncio.run(main())
    finished = gen.counts[(url, "steady", "finished")]
    assert set(gen.counts) == {(url, "steady", "finished")}, gen.counts
    # Every stream the client counted as finished was sent to its end.
    assert state.streams_completed >= finished
    assert all(s.authorization in (f"Bearer {USER_TOKEN}", f"Bearer {ADMIN_TOKEN}") for s in state.seen)
    assert all(s.status == 200 for s in state.seen)
    target = url.removeprefix("http://")
    labels = {"target": target, "mode": "steady", "outcome": "finished"}
    assert registry.get_sample_value("loadgen_runs_total", labels) == finished
    assert registry.get_sample_value(
        "loadgen_run_duration_seconds_count", {"target": target, "mode": "steady"}
    )
    assert len(set(state.texts())) >= 10, "the prompt mix should vary"


def test_rate_is_respected(standin: tuple[StandIn, str]) -> None:
    state, url = standin
    gen = LoadGenerator(settings(url, rate=10.0), LoadgenMetrics(CollectorRegistry()))

    async def main() -> float:
        await gen.start()
        start = time.monotonic()
        await until("15 requests", lambda: len(state.seen) >= 15)
        elapsed = time.monotonic() - start
        await gen.stop()
        return elapsed

    elapsed = asyncio.run(main())
    # 15 requests at 10/s: the first goes at once, the 15th after ~1.4 s. The upper
    # bound is loose because a busy host may slow the loop down, never speed it up.
    assert 1.1 < elapsed < 8.0


def test_traffic_modes_follow_the_fault_api(standin: tuple[StandIn, str]) -> None:
    state, url = standin
    registry = CollectorRegistry()
    gen = LoadGenerator(settings(url, rate=2.0), LoadgenMetrics(registry))
    target = url.removeprefix("http://")

    def active(mode: str) -> float | None:
        return registry.get_sample_value("loadgen_mode_active", {"target": target, "mode": mode})

    async def main() -> None:
        await gen.start()
        try:
            await until("first poll", lambda: gen.poll_ok[url] is True)
            assert active("guardrail_attack") == 0

            state.registry.set("guardrail_attack", {"rate": 20})
            await until("guardrail prompts refused", lambda: len(state.texts(400)) >= 5)
            assert active("guardrail_attack") == 1
            state.registry.clear("guardrail_attack")
            await until("mode off", lambda: active("guardrail_attack") == 0)
            settled = len(state.texts(400))
            # Ten poll intervals; at 20/s another 20 would come if the mode were still on,
            # a few may be requests already on the wire when it went off.
            await asyncio.sleep(1.0)
            assert len(state.texts(400)) <= settled + 3

            state.registry.set("auth_failure_spike", {"rate": 30})
            await until("auth failures", lambda: len(state.texts(401)) >= 6)
            state.registry.set("forbidden_admin_tool", {"rate": 20})
            await until(
                "admin-tool prompts", lambda: sum(t in FORBIDDEN_ADMIN_PROMPTS for t in state.texts(200)) >= 3
            )
            state.registry.clear_all()
            await until("all modes off", lambda: not gen.modes[url])
        finally:
            await gen.stop()

    asyncio.run(main())
    refused = [s for s in state.seen if s.status == 401]
    # Missing, invalid and malformed credentials all appear.
    assert {s.authorization is None for s in refused} == {True, False}
    assert any((s.authorization or "").startswith("Basic ") for s in refused)
    assert any((s.authorization or "").startswith("Bearer invalid-") for s in refused)
    assert set(state.texts(400)) <= set(GUARDRAIL_PROMPTS)
    forbidden = [s for s in state.seen if s.text in FORBIDDEN_ADMIN_PROMPTS]
    assert forbidden and all(s.authorization == f"Bearer {USER_TOKEN}" for s in forbidden)
    assert gen.counts.get((url, "guardrail_attack", "http_400"), 0) >= 5
    assert gen.counts.get((url, "auth_failure_spike", "http_401"), 0) >= 6


def test_unreachable_fault_api_counts_poll_errors() -> None:
    registry = CollectorRegistry()
    gen = LoadGenerator(
        settings("http://127.0.0.1:9", rate=1.0, run_timeout_seconds=2.0), LoadgenMetrics(registry)
    )

    async def main() -> None:
        await gen.start()
        try:
            await until(
                "poll error",
                lambda: (
                    (
                        registry.get_sample_value(
                            "loadgen_fault_poll_errors_total",
                            {"target": "127.0.0.1:9", "reason": "network_error"},
                        )
                        or 0
                    )
                    >= 2
                ),
            )
            await until(
                "network error run",
                lambda: gen.counts.get(("http://127.0.0.1:9", "steady", "network_error"), 0) >= 1,
            )
        finally:
            await gen.stop()

    asyncio.run(main())
    assert gen.modes["http://127.0.0.1:9"] == {}


def test_steady_runs_are_turns_of_multi_turn_conversations(standin: tuple[StandIn, str]) -> None:
    state, url = standin
    registry = CollectorRegistry()
    gen = LoadGenerator(settings(url, rate=40.0, think_seconds=0.0), LoadgenMetrics(registry))

    async def main() -> None:
        await gen.start()
        try:
            await until("60 finished runs", lambda: gen.counts.get((url, "steady", "finished"), 0) >= 60)
        finally:
            await gen.stop()

    asyncio.run(main())
    threads: dict[str, list[int]] = {}
    for s in state.seen:
        threads.setdefault(s.thread_id, []).append(s.messages)
    # Each turn carries the transcript so far: the user's and the assistant's messages
    # of every earlier turn, then the new user message.
    for counts in threads.values():
        assert counts == [1 + 2 * i for i in range(len(counts))], counts
        assert len(counts) <= 6
    finished = [c for c in threads.values() if len(c) >= 2]
    assert len(finished) >= 5, "threads are reused for several turns"
    assert len(threads) >= 5, "conversations end and new ones start"
    started = registry.get_sample_value("loadgen_conversations_started_total", {"target": url[7:]})
    assert started == gen.conversations.started >= len(threads)


def test_steady_traffic_is_open_loop_while_runs_are_slow(standin: tuple[StandIn, str]) -> None:
    state, url = standin
    state.delay = 1.0
    registry = CollectorRegistry()
    gen = LoadGenerator(settings(url, rate=20.0, max_in_flight=64), LoadgenMetrics(registry))

    async def main() -> None:
        await gen.start()
        try:
            # With 1 s runs a closed loop of 8 would stop at 8 runs in the first second.
            await until("16 streams open at once", lambda: state.max_streams_open >= 16, within=5.0)
        finally:
            await gen.stop()

    asyncio.run(main())
    assert registry.get_sample_value("loadgen_runs_dropped_total", {"mode": "steady"}) == 0


def test_runs_beyond_the_in_flight_cap_are_dropped_and_counted(standin: tuple[StandIn, str]) -> None:
    state, url = standin
    state.delay = 1.0
    registry = CollectorRegistry()
    gen = LoadGenerator(settings(url, rate=20.0, max_in_flight=3), LoadgenMetrics(registry))

    def dropped() -> float:
        return registry.get_sample_value("loadgen_runs_dropped_total", {"mode": "steady"}) or 0.0

    async def main() -> None:
        await gen.start()
        try:
            await until("10 dropped runs", lambda: dropped() >= 10)
        finally:
            await gen.stop()

    asyncio.run(main())
    assert state.max_streams_open <= 3
    assert gen.status()["max_in_flight"] == 3
