"""The native stack itself: ``up`` reaches ready with every target up and prints its URLs,
``status --json`` reports every component, ``down`` stops every PID, a busy port is
named, and single components restart with their data kept."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest
import yaml

from stack.clients import AlertmanagerClient, PrometheusClient, ReceiverClient
from stack.native import NativeStack
from stack.native.settings import PORT_FIELDS, REPO_ROOT, free_ports
from stack.timecompress import Compression, parse_duration
from tests.support.figures import record_figure

pytestmark = pytest.mark.e2e

COMPONENTS = {
    "receiver",
    "upstreams",
    "backend-1",
    "backend-2",
    "blackbox",
    "alertmanager",
    "prometheus",
    "loadgen",
}
JOBS = {
    "backend",
    "blackbox-health",
    "blackbox-readiness",
    "prometheus",
    "alertmanager",
    "blackbox",
    "upstreams",
    "loadgen",
    "receiver",
}


def stack_cli(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stack", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=timeout,
        check=False,
    )


def port_flags(ports: dict[str, int]) -> list[str]:
    return [x for field, port in ports.items() for x in (f"--{field[:-5].replace('_', '-')}-port", str(port))]


def test_cli_up_status_down(tmp_path: Path) -> None:
    # Without the load generator (the busy stack proves it starts and is scraped): the tier runs
    # this beside the busy lane's drills, which a second loaded stack would slow down.
    ports = free_ports()
    started = COMPONENTS - {"loadgen"}
    run_dir = tmp_path / "run"
    up = stack_cli("up", "--drill", "--no-loadgen", "--run-dir", str(run_dir), *port_flags(ports))
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        for field, port in ports.items():
            if field != "loadgen_port":
                assert f"http://127.0.0.1:{port}" in up.stdout, f"{field} URL missing from:\n{up.stdout}"
        assert f"http://127.0.0.1:{ports['loadgen_port']}" not in up.stdout
        assert "ready in" in up.stdout

        status = stack_cli("status", "--run-dir", str(run_dir), "--json")
        assert status.returncode == 0, status.stdout + status.stderr
        doc = json.loads(status.stdout)
        assert doc["healthy"] is True
        assert doc["mode"] == "drill"
        components = {c["name"]: c for c in doc["components"]}
        assert set(components) == started
        assert all(c["healthy"] and c["pid"] for c in components.values())
        assert components["prometheus"]["url"] == f"http://127.0.0.1:{ports['prometheus_port']}"
        pids = [c["pid"] for c in components.values()]
        state = json.loads((run_dir / "state.json").read_text())
        assert {c["pid"] for c in state["components"].values()} == set(pids)
    finally:
        down = stack_cli("down", "--run-dir", str(run_dir))
    assert down.returncode == 0, down.stdout + down.stderr
    assert not [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
    assert not (run_dir / "state.json").exists()
    assert stack_cli("status", "--run-dir", str(run_dir)).returncode == 3
    for name in started:
        assert (run_dir / "logs" / f"{name}.log").stat().st_size > 0


def test_cli_up_names_a_port_in_use_and_starts_nothing(tmp_path: Path) -> None:
    ports = free_ports()
    with socket.socket() as held:
        held.bind(("127.0.0.1", ports["blackbox_port"]))
        held.listen()
        up = stack_cli("up", "--run-dir", str(tmp_path / "run"), *port_flags(ports))
    assert up.returncode == 1
    assert f"blackbox (port {ports['blackbox_port']})" in up.stderr
    assert not (tmp_path / "run").exists()


def test_session_stack_ready_every_target_up(
    native_stack: NativeStack, prometheus_client: PrometheusClient
) -> None:
    assert native_stack.ready_seconds is not None
    targets = prometheus_client.wait_targets_up(timeout=10)
    assert {t["scrapePool"] for t in targets} == JOBS
    instances = {t["labels"]["instance"] for t in targets if t["scrapePool"] == "backend"}
    # Natively the same labels as in compose: the instance is the compose address.
    assert instances == {"backend-1:8000", "backend-2:8000"}
    ams = prometheus_client.alertmanagers()
    assert ams == [f"http://127.0.0.1:{native_stack.settings.alertmanager_port}/api/v2/alerts"]


def test_drill_mode_rules_are_compressed(
    native_stack: NativeStack, prometheus_client: PrometheusClient
) -> None:
    compression = Compression(native_stack.settings.factor)
    expected = {}
    for path in (native_stack.settings.provisioning_dir / "prometheus" / "rules").glob("*.yml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    expected[rule["alert"]] = parse_duration(compression.scale(rule.get("for", "0s"))) / 1000
    loaded = {r["name"]: r["duration"] for g in prometheus_client.rules("alert") for r in g["rules"]}
    assert loaded == expected


def test_watchdog_reaches_the_heartbeat_receiver(
    prometheus_client: PrometheusClient, receiver_client: ReceiverClient
) -> None:
    prometheus_client.wait_alert("Watchdog", "firing", timeout=20)
    delivery = receiver_client.wait_delivery("Watchdog", receiver="heartbeat", timeout=20)
    assert delivery["kind"] == "webhook"
    assert receiver_client.rejected() == []


@pytest.mark.disturbs_stack
def test_alertmanager_restart_keeps_its_silences(
    quiet_stack: NativeStack, quiet_alertmanager: AlertmanagerClient, quiet_prometheus: PrometheusClient
) -> None:
    silence = quiet_alertmanager.create_silence(
        {"alertname": "NoSuchAlert"}, seconds=600, comment="restart test"
    )
    old_pid = quiet_stack.processes["alertmanager"].pid
    try:
        quiet_stack.restart("alertmanager")
        assert quiet_stack.processes["alertmanager"].pid != old_pid
        ids = {s["id"] for s in quiet_alertmanager.silences() if s["status"]["state"] == "active"}
        assert silence in ids
        quiet_prometheus.wait_targets_up(timeout=15)
    finally:
        quiet_alertmanager.delete_silence(silence)


@pytest.mark.disturbs_stack
def test_kill_and_start_one_backend(quiet_stack: NativeStack, quiet_prometheus: PrometheusClient) -> None:
    url = quiet_stack.urls["backend-1"]
    quiet_stack.kill("backend-1")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/health")
    assert quiet_stack.processes["backend-2"].alive()
    quiet_stack.start_component("backend-1")
    assert httpx.get(f"{url}/health").status_code == 200
    quiet_prometheus.wait_targets_up(timeout=15)


@pytest.mark.disturbs_stack
def test_prometheus_restart_keeps_its_data(
    quiet_stack: NativeStack, quiet_prometheus: PrometheusClient
) -> None:
    before = quiet_prometheus.query("count(up)")
    assert before
    quiet_stack.restart("prometheus")
    started = quiet_prometheus.query("min(process_start_time_seconds{job='prometheus'})")
    # Samples scraped before the restart are still there: the TSDB directory was kept.
    series = quiet_prometheus.query("count_over_time(up{job='backend'}[1h])")
    assert series and all(float(s["value"][1]) > 1 for s in series), (series, started)
    targets = quiet_prometheus.wait_targets_up(timeout=20)
    record_figure("targets up again after a Prometheus restart (count)", len(targets))


def test_every_port_field_is_covered() -> None:
    assert len(PORT_FIELDS) == len(COMPONENTS)


def test_a_component_that_dies_at_start_fails_up_and_tears_everything_down(tmp_path: Path) -> None:
    from stack.native import StackError
    from stack.native.process import port_in_use
    from tests.e2e.conftest import free_stack_settings

    settings = free_stack_settings(tmp_path / "run", drill=True, ready_timeout_seconds=30)
    # `false` exists on PATH (so preflight passes) and exits at once, as a crashing exporter would.
    binaries = {"prometheus": "prometheus", "alertmanager": "prometheus-alertmanager", "blackbox": "false"}
    with (
        pytest.raises(StackError, match=r"blackbox exited while waiting") as err,
        NativeStack(settings, binaries),
    ):
        pytest.fail("the stack must not start")
    assert "blackbox.log" in str(err.value)
    busy = [name for name, port in settings.ports().items() if port_in_use(port)]
    assert busy == [], f"still listening after the failed start: {busy}"
    assert not (settings.run_dir / "state.json").exists()


def test_slow_start_up_defers_prometheus_so_nothing_fires(quiet_stack: NativeStack) -> None:
    from tests.e2e.conftest import QUIET_START_UP

    # The quiet stack started as if nothing else were healthy before Prometheus' first scrape.
    assert QUIET_START_UP["deferred"], quiet_stack.timings
    assert "BackendDown" not in QUIET_START_UP["alerts"]
    assert QUIET_START_UP["backend_down_for_state"] == []


@pytest.mark.disturbs_stack
def test_reload_waits_for_alertmanager_again(quiet_prometheus: PrometheusClient) -> None:
    quiet_prometheus.reload(wait_alertmanagers=15)
    assert quiet_prometheus.alertmanagers()
