"""The compose bundle, brought up for real (needs a Docker engine; skipped otherwise):
Grafana sees every datasource healthy and every dashboard provisioned, a log line's
trace_id and an exemplar's trace_id both resolve in Tempo, and a log-based alert from
Loki's ruler travels Alertmanager to the receiver. And the whole drill suite passes against
the bundle in drill + CI mode, driven by the same commands a user types."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from testcontainers.compose import DockerCompose

from stack.clients import BackendAdmin, ReceiverClient
from stack.clients._base import poll
from stack.drills.catalog import load_catalog
from stack.native.compose import compose_files
from tests.compose._bundle import ROOT
from tests.dashboards._queries import UIDS

pytestmark = pytest.mark.compose

GRAFANA = "http://127.0.0.1:3000"
GRAFANA_AUTH = ("admin", os.environ.get("GRAFANA_ADMIN_PASSWORD", "admin"))
LOKI = "http://127.0.0.1:3100"
TEMPO = "http://127.0.0.1:3200"
PROMETHEUS = "http://127.0.0.1:9090"
ADMIN_TOKEN = os.environ.get("BACKEND_ADMIN_TOKEN", "dev-admin-token")
# Building the image and waiting for every healthcheck; then the whole catalog of drills.
UP_TIMEOUT_SECONDS = 900
DRILL_TIMEOUT_SECONDS = 1800


def _stack(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stack", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def _compose_down_volumes() -> None:
    """Remove the drill bundle with its volumes: like the native stack at every `up`, a drill
    run starts from an empty TSDB and notification log."""
    files = [a for f in compose_files(drill=True, ci=True) for a in ("-f", str(f))]
    subprocess.run(["docker", "compose", *files, "down", "--volumes"], cwd=ROOT, check=False, timeout=300)


@pytest.fixture
def drill_bundle(tmp_path: Path) -> Iterator[Path]:
    """`python -m stack up --compose --ci` (drill mode, light variant) in a run directory of
    its own; down again, volumes and all, afterwards."""
    run_dir = tmp_path / "run"
    _compose_down_volumes()
    files = [a for f in compose_files(drill=True, ci=True) for a in ("-f", str(f))]
    # `up --compose` does not rebuild: the image must carry this checkout's code.
    subprocess.run(["docker", "compose", *files, "build"], cwd=ROOT, check=True, timeout=UP_TIMEOUT_SECONDS)
    try:
        up = _stack("up", "--compose", "--ci", "--run-dir", str(run_dir), timeout=UP_TIMEOUT_SECONDS)
        assert up.returncode == 0, up.stdout + up.stderr
        yield run_dir
    finally:
        _stack("down", "--compose", "--ci", "--run-dir", str(run_dir), timeout=300)
        _compose_down_volumes()


# Defined before the tests on the `bundle` fixture: pytest runs a module in file order and
# keeps a module fixture up until the module ends, so this bundle comes and goes before the
# production bundle claims the same ports.
def test_the_drill_suite_passes_against_the_compose_bundle(drill_bundle: Path) -> None:
    drill = _stack("drill", "--all", "--json", "--run-dir", str(drill_bundle), timeout=DRILL_TIMEOUT_SECONDS)
    assert "starting one" not in drill.stderr, f"drill started a native stack:\n{drill.stderr[-3000:]}"
    doc = json.loads(drill.stdout)
    scenarios = {s["name"]: s for s in doc["scenarios"]}
    assert sorted(scenarios) == sorted(load_catalog().scenarios)
    failed = {
        name: (s["failed_hop"], s["error"], s["violations"])
        for name, s in scenarios.items()
        if not s["ok"] and not s.get("known_issue")
    }
    assert not failed, json.dumps(failed, indent=2)
    assert doc["ok"] and drill.returncode == 0, drill.stderr[-3000:]


@pytest.fixture(scope="module")
def bundle() -> Iterator[DockerCompose]:
    if any(f.name == "compose.standin.yaml" for f in compose_files()):
        pytest.skip(
            "no image registry here (STACK_COMPOSE_OVERRIDES=compose.standin.yaml): Grafana, Loki, "
            "Tempo and Alloy have no Debian package to build a stand-in from"
        )
    # `--wait` semantics: start() returns once every healthcheck passes, or raises.
    with DockerCompose(ROOT, compose_file_name="compose.yaml", build=True, wait=True) as compose:
        yield compose


def _get(url: str, **kwargs: Any) -> Any:
    resp = httpx.get(url, timeout=10, **kwargs)
    resp.raise_for_status()
    return resp.json()


def test_grafana_shows_every_datasource_healthy(bundle: DockerCompose) -> None:
    for uid in ("prometheus", "loki", "tempo"):
        health = _get(f"{GRAFANA}/api/datasources/uid/{uid}/health", auth=GRAFANA_AUTH)
        assert health["status"] == "OK", (uid, health)
    # The Alertmanager datasource has no health endpoint: Grafana's proxy must reach it.
    status = _get(f"{GRAFANA}/api/datasources/proxy/uid/alertmanager/api/v2/status", auth=GRAFANA_AUTH)
    assert status["cluster"]["status"] in {"disabled", "ready"}


def test_grafana_provisions_every_dashboard(bundle: DockerCompose) -> None:
    found = _get(f"{GRAFANA}/api/search", params={"type": "dash-db"}, auth=GRAFANA_AUTH)
    assert sorted(d["uid"] for d in found) == sorted(UIDS)
    for uid in UIDS:
        meta = _get(f"{GRAFANA}/api/dashboards/uid/{uid}", auth=GRAFANA_AUTH)["meta"]
        assert meta["provisioned"] is True


def test_anonymous_visitors_can_read_but_not_write(bundle: DockerCompose) -> None:
    assert httpx.get(f"{GRAFANA}/api/dashboards/uid/overview", timeout=10).status_code == 200
    resp = httpx.post(f"{GRAFANA}/api/dashboards/db", json={"dashboard": {"title": "x"}}, timeout=10)
    assert resp.status_code in {401, 403}


def _trace_in_tempo(trace_id: str) -> tuple[bool, int]:
    code = httpx.get(f"{TEMPO}/api/traces/{trace_id}", timeout=10).status_code
    return code == 200, code


def test_a_trace_id_from_a_loki_log_line_resolves_in_tempo(bundle: DockerCompose) -> None:
    def log_with_trace() -> tuple[bool, Any]:
        data = _get(
            f"{LOKI}/loki/api/v1/query_range",
            params={"query": '{logger="audit"} | trace_id != ""', "limit": 20, "since": "10m"},
        )["data"]["result"]
        ids = [s["stream"].get("trace_id") for s in data if s["stream"].get("trace_id")]
        return bool(ids), ids[0] if ids else data

    trace_id = poll(log_with_trace, "an audit log line with a trace_id in Loki", timeout=120, interval=2)
    poll(lambda: _trace_in_tempo(trace_id), f"trace {trace_id} in Tempo", timeout=60, interval=2)


def test_an_exemplar_trace_id_resolves_in_tempo(bundle: DockerCompose) -> None:
    def exemplar() -> tuple[bool, Any]:
        now = time.time()
        data = _get(
            f"{PROMETHEUS}/api/v1/query_exemplars",
            params={
                "query": 'http_server_request_duration_seconds_bucket{job="backend"}',
                "start": now - 600,
                "end": now,
            },
        )["data"]
        ids = [
            e["labels"]["trace_id"]
            for series in data
            for e in series["exemplars"]
            if "trace_id" in e["labels"]
        ]
        return bool(ids), ids[-1] if ids else data

    trace_id = poll(exemplar, "an exemplar with a trace_id in Prometheus", timeout=120, interval=2)
    poll(lambda: _trace_in_tempo(trace_id), f"trace {trace_id} in Tempo", timeout=60, interval=2)


def test_a_loki_ruler_alert_reaches_the_receiver(bundle: DockerCompose) -> None:
    since = time.time()
    with (
        BackendAdmin("http://127.0.0.1:8001", ADMIN_TOKEN) as backend,
        ReceiverClient("http://127.0.0.1:8300") as rx,
    ):
        backend.set("auth_failure_spike", rate=20)
        try:
            # 30 failures within 5 m need ~2 s at 20 req/s; then `for: 1m`, the 15 s ruler
            # interval and Alertmanager's group_wait.
            delivery = rx.wait_delivery("AuthFailureBurstFromClient", since=since, timeout=240)
        finally:
            backend.clear("auth_failure_spike")
    assert delivery["status"] == "firing"
