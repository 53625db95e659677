"""The prompt mix: every tool and peer agent gets enough traffic, each prompt makes the
simulated model call exactly the intended tools, and only attack prompts trip the guardrail."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from sample_backend.faults import KNOWN_AGENTS, KNOWN_TOOLS
from sample_backend.loadgen.prompts import (
    CYCLE,
    FORBIDDEN_ADMIN_PROMPTS,
    GUARDRAIL_PROMPTS,
    MIX,
    SHARES,
    Schedule,
    spread,
)
from sample_backend.loadgen.settings import LoadgenSettings
from sample_backend.upstreams.planner import plan_tool_calls

guardrail = pytest.importorskip("sample_backend.app.guardrail")
tools = pytest.importorskip("sample_backend.app.tools")

OFFERED = {s["function"]["name"]: s["function"]["parameters"] for s in tools.TOOL_SCHEMAS} | {
    "delegate_to_agent": {
        "type": "object",
        "properties": {"agent": {"type": "string", "enum": list(KNOWN_AGENTS)}, "task": {"type": "string"}},
        "required": ["agent", "task"],
    }
}
EXPECTED = {
    "weather": ["weather"],
    "search_docs": ["search_docs"],
    "crm_lookup": ["crm_lookup"],
    "calculator": ["calculator"],
    "research-agent": ["research-agent"],
    "billing-agent": ["billing-agent"],
    "chat": [],
    "weather+calculator": ["weather", "calculator"],
    "search_docs+research-agent": ["search_docs", "research-agent"],
    "crm_lookup+billing-agent": ["crm_lookup", "billing-agent"],
    "admin_reset_cache": ["admin_reset_cache"],
}


def targets_hit(text: str) -> list[str]:
    return [
        c.arguments["agent"] if c.name == "delegate_to_agent" else c.name
        for c in plan_tool_calls(text, OFFERED)
    ]


def tripped(text: str) -> bool:
    return any(p.search(text) for patterns in guardrail.RULES.values() for p in patterns)


@pytest.mark.parametrize(("kind", "text"), [(k, t) for k, (_, _, texts) in MIX.items() for t in texts])
def test_each_steady_prompt_calls_exactly_its_tools(kind: str, text: str) -> None:
    assert targets_hit(text) == EXPECTED[kind]
    assert not tripped(text), f"steady prompt trips the guardrail: {text!r}"


@pytest.mark.parametrize("text", GUARDRAIL_PROMPTS)
def test_guardrail_prompts_trip_the_guardrail(text: str) -> None:
    assert tripped(text)


@pytest.mark.parametrize("text", FORBIDDEN_ADMIN_PROMPTS)
def test_forbidden_prompts_call_the_admin_tool(text: str) -> None:
    assert targets_hit(text) == ["admin_reset_cache"]
    assert not tripped(text)


def test_every_tool_and_agent_gets_enough_traffic_per_instance() -> None:
    defaults = LoadgenSettings()
    per_instance = defaults.rate / len(defaults.target_urls)
    hits: Counter[str] = Counter()
    for kind, (share, _, _) in MIX.items():
        for target in EXPECTED[kind]:
            hits[target] += share
    rates = {t: per_instance * n / CYCLE for t, n in hits.items()}
    assert set(rates) == set(KNOWN_TOOLS) | set(KNOWN_AGENTS)
    # Per-tool / per-agent rate windows need at least 0.4 calls/s per instance; peer
    # agents (one delegation per run at most) get more, 0.6; the admin tool is the
    # exception: legitimate admin use is rare by nature.
    assert all(r >= 0.4 for t, r in rates.items() if t != "admin_reset_cache"), rates
    assert all(rates[a] >= 0.6 for a in KNOWN_AGENTS), rates


def test_schedule_follows_the_shares() -> None:
    schedule = Schedule(seed=3)
    kinds = Counter(schedule.next().kind for _ in range(CYCLE * 4))
    assert kinds == Counter({k: share * 4 for k, share in SHARES.items()})
    admin = [p for p in (schedule.next() for _ in range(CYCLE)) if p.role == "admin"]
    assert {p.kind for p in admin} == {"admin_reset_cache"}


def test_no_tool_or_agent_waits_long_for_its_next_call() -> None:
    # A drill's rate windows are 4 s and drill mode runs 6 runs/s per instance: a quarter
    # cycle (12 runs, 2 s) between two calls of a tool leaves every window at least one.
    # A shuffled cycle leaves gaps of 14-33 runs.
    schedule = Schedule(seed=5)
    kinds = [schedule.next().kind for _ in range(CYCLE * 2)]
    for target in {t for hit in EXPECTED.values() for t in hit} - {"admin_reset_cache"}:
        calls = [i for i, kind in enumerate(kinds) if target in EXPECTED[kind]]
        gaps = [b - a for a, b in itertools.pairwise(calls)] + [calls[0] + len(kinds) - calls[-1]]
        assert max(gaps) <= CYCLE // 4, (target, gaps)


def test_every_stretch_of_the_cycle_holds_each_kind_near_its_share() -> None:
    slots = spread(SHARES)
    for kind, share in SHARES.items():
        for start in range(CYCLE):
            for length in range(1, CYCLE + 1):
                held = sum(slots[(start + i) % CYCLE] == kind for i in range(length))
                assert abs(held - length * share / CYCLE) <= 1.5, (kind, start, length, held)
