"""The loadgen process: settings validated at start, /health, /metrics and /status served,
SIGTERM stops it cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from sample_backend.loadgen.settings import SettingsError, load_settings
from tests.support.servers import free_port, serve
from tests.unit.loadgen.standin import ADMIN_TOKEN, USER_TOKEN, StandIn


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"targets": ""}, "LOADGEN_TARGETS: Value error, at least one backend base URL is required"),
        ({"targets": "ftp://x"}, "LOADGEN_TARGETS: Value error, 'ftp://x' is not an http(s) URL"),
        ({"targets": "http://a,http://a/"}, "LOADGEN_TARGETS: Value error, a target is listed twice"),
        ({"rate": 0}, "LOADGEN_RATE: Input should be greater than 0"),
        ({"max_in_flight": 0}, "LOADGEN_MAX_IN_FLIGHT: Input should be greater than or equal to 1"),
        (
            {"conversation_turns_min": 4, "conversation_turns_max": 3},
            "LOADGEN_CONVERSATION_TURNS_MAX: Value error, must be at least LOADGEN_CONVERSATION_TURNS_MIN",
        ),
        ({"user_token": ""}, "LOADGEN_USER_TOKEN: String should have at least 1 character"),
    ],
)
def test_bad_settings_name_the_key(env: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(**env)
    assert message in str(info.value)


@pytest.fixture
def backend() -> Iterator[tuple[StandIn, str]]:
    state = StandIn()
    with serve(state.app()) as url:
        yield state, url


def wait_for(what: str, cond: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if cond():  # type: ignore[operator]
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.1)


def test_process_serves_metrics_and_stops_on_sigterm(backend: tuple[StandIn, str]) -> None:
    state, url = backend
    port = free_port()
    env = os.environ | {
        "LOADGEN_TARGETS": url,
        "LOADGEN_PORT": str(port),
        "LOADGEN_RATE": "20",
        "LOADGEN_USER_TOKEN": USER_TOKEN,
        "LOADGEN_ADMIN_TOKEN": ADMIN_TOKEN,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "sample_backend.loadgen"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for("loadgen /health", lambda: httpx.get(f"{base}/health").status_code == 200)
        wait_for("runs recorded", lambda: "loadgen_runs_total{" in httpx.get(f"{base}/metrics").text)
        status = httpx.get(f"{base}/status").json()
        assert status["targets"][url]["fault_api_ok"] is True
        assert any(r["outcome"] == "finished" for r in status["runs"])
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
    # uvicorn re-raises the signal after a graceful shutdown, so -SIGTERM is a clean exit too.
    assert proc.returncode in (0, -signal.SIGTERM), out.decode()
    assert b'"message": "Application shutdown complete."' in out
    assert b'"message": "load generator stopped"' in out
    assert len(state.seen) > 0


def test_process_refuses_bad_config() -> None:
    env = os.environ | {"LOADGEN_RATE": "fast"}
    proc = subprocess.run(
        [sys.executable, "-m", "sample_backend.loadgen"], env=env, capture_output=True, timeout=30
    )
    assert proc.returncode == 2
    assert b"LOADGEN_RATE" in proc.stderr
