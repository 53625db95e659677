"""The load generator against the real backend and the simulated upstreams: the steady
mix reaches every tool and peer agent, and a traffic mode set through the backend's
fault API shows up on the backend's security metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from sample_backend.faults import KNOWN_AGENTS, KNOWN_TOOLS
from sample_backend.loadgen import LoadGenerator, LoadgenMetrics, LoadgenSettings
from sample_backend.upstreams import UpstreamsSettings
from sample_backend.upstreams import create_app as upstreams_app
from tests.support.servers import serve

backend_main = pytest.importorskip("sample_backend.app.main")
backend_settings = pytest.importorskip("sample_backend.app.settings")

ADMIN, USER = "it-admin", "it-user"


@pytest.fixture
def backend_url() -> Iterator[str]:
    with serve(upstreams_app(UpstreamsSettings(port=0, llm_token_interval_seconds=0.0))) as up:
        settings = backend_settings.BackendSettings(
            port=0,
            admin_token=ADMIN,
            auth_tokens={USER: "user", ADMIN: "admin"},
            llm_base_url=f"{up}/v1",
            tools_base_url=f"{up}/tools",
            a2a_agents={a: f"{up}/a2a/{a}" for a in KNOWN_AGENTS},
        )
        with serve(backend_main.create_app(settings)) as url:
            yield url


def samples(url: str, family: str) -> dict[tuple[tuple[str, str], ...], float]:
    text = httpx.get(f"{url}/metrics").text
    out: dict[tuple[tuple[str, str], ...], float] = {}
    for fam in text_string_to_metric_families(text):
        if fam.name == family:
            for s in fam.samples:
                if s.name == f"{family}_total":
                    out[tuple(sorted(s.labels.items()))] = s.value
    return out


def ok_targets(url: str) -> set[str]:
    tools = {
        dict(k)["tool"]
        for k, v in samples(url, "agent_tool_calls").items()
        if v and dict(k)["status"] == "OK"
    }
    agents = {
        dict(k)["agent"]
        for k, v in samples(url, "agent_a2a_delegations").items()
        if v and dict(k)["status"] == "OK"
    }
    return tools | agents


async def until(what: str, cond: Callable[[], bool], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not await asyncio.to_thread(cond):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {within} s")
        await asyncio.sleep(0.2)


def test_mix_reaches_every_tool_and_agent_and_modes_show_up(backend_url: str) -> None:
    settings = LoadgenSettings(
        targets=backend_url,
        rate=30.0,
        # One test process serves the backend, the upstreams and the generator: the cap keeps
        # that process from overload, which would fail runs for want of CPU.
        max_in_flight=8,
        user_token=USER,
        admin_token=ADMIN,
        poll_interval_seconds=0.2,
    )
    gen = LoadGenerator(settings, LoadgenMetrics(CollectorRegistry()))
    auth = {"Authorization": f"Bearer {ADMIN}"}

    async def main() -> None:
        await gen.start()
        try:
            everything = set(KNOWN_TOOLS) | set(KNOWN_AGENTS)
            await until("every tool and agent called OK", lambda: ok_targets(backend_url) >= everything)
            async with httpx.AsyncClient() as client:
                r = await client.put(
                    f"{backend_url}/admin/faults/guardrail_attack", headers=auth, json={"rate": 20}
                )
                assert r.status_code == 200
                r = await client.put(
                    f"{backend_url}/admin/faults/forbidden_admin_tool", headers=auth, json={}
                )
                assert r.status_code == 200

            def attacked() -> bool:
                violations = sum(samples(backend_url, "agent_guardrail_violations").values())
                denied = sum(samples(backend_url, "agent_rbac_denials").values())
                return violations >= 5 and denied >= 2

            await until("guardrail violations and RBAC denials", attacked)
            async with httpx.AsyncClient() as client:
                await client.delete(f"{backend_url}/admin/faults", headers=auth)
        finally:
            await gen.stop()

    asyncio.run(main())
    steady = {o: n for (_, m, o), n in gen.counts.items() if m == "steady"}
    assert set(steady) == {"finished"}, steady
