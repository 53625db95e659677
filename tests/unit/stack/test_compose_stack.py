"""ComposeStack drives the compose bundle with the right ``docker compose`` commands, the
state file of ``up --compose`` round-trips, :func:`attach` picks the handle the run directory
records, and without an engine everything fails fast - checked with a stand-in ``docker``
that records how it was called."""

from __future__ import annotations

import json
import signal
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from stack import cli
from stack.alerting import URL_OVERRIDES
from stack.native import NativeStack, StackError
from stack.native.compose import (
    CI_FILE,
    COMPOSE_FILE,
    COMPOSE_STATE_FILE,
    DRILL_FILE,
    ComposeUnavailable,
    plan_compose,
    read_state,
)
from stack.native.compose_stack import ComposeStack, attach
from stack.native.stack import STATE_FILE

FAKE_DOCKER = """#!/bin/sh
# Stand-in docker: `info` answers as the engine's exit status says, `ps` prints the canned
# output, a command named in FAIL exits 1; every call is recorded with DRILL_PROVISIONING.
echo "$*" >> "{log}"
echo "DRILL_PROVISIONING=$DRILL_PROVISIONING" >> "{log}"
if [ "$1" = info ]; then exit {info_status}; fi
for arg in "$@"; do
  if [ "$arg" = "{fail}" ]; then echo "no such service" >&2; exit 1; fi
  if [ "$arg" = ps ]; then while IFS= read -r line; do echo "$line"; done < "{ps}"; fi
done
exit 0
"""


class Docker:
    """The stand-in's log and its canned ``ps`` output."""

    def __init__(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, info_status: int = 0, fail: str = "-"
    ):
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        self.log = tmp_path / "docker.log"
        self.ps = tmp_path / "ps.json"
        self.ps.write_text("")
        script = bin_dir / "docker"
        script.write_text(FAKE_DOCKER.format(log=self.log, ps=self.ps, info_status=info_status, fail=fail))
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
        monkeypatch.setenv("PATH", str(bin_dir))

    def calls(self) -> list[tuple[list[str], str]]:
        """(argv after ``docker``, env line) of every compose call but the version probe."""
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        pairs = [(lines[i].split(), lines[i + 1]) for i in range(0, len(lines), 2)]
        return [p for p in pairs if p[0][:1] == ["compose"] and p[0][1:2] != ["version"]]

    def commands(self) -> list[list[str]]:
        """The compose sub-commands, after the ``-f`` files."""
        result = []
        for argv, _ in self.calls():
            rest = argv[1:]
            while rest[:1] == ["-f"]:
                rest = rest[2:]
            result.append(rest)
        return result


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in URL_OVERRIDES:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def healthy_port() -> Iterator[int]:
    """A port answering 200 on every path (stands in for each container's health endpoint)."""

    class Ok(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def up(run: Path, *, ci: bool = True, factor: float = 60.0) -> None:
    """What ``up --compose --ci`` records (through the same call the CLI makes)."""
    plan_compose(run, drill=True, ci=ci, factor=factor, environ={}, docker="docker")


def compose_stack(tmp_path: Path, port: int | None = None) -> ComposeStack:
    run = tmp_path / "run"
    up(run)
    if port is not None:
        # Every service's health endpoint on the stand-in server.
        path = run / COMPOSE_STATE_FILE
        state = json.loads(path.read_text())
        state["ports"] = {name: port for name in state["ports"]}
        path.write_text(json.dumps(state))
    return ComposeStack.attach(run)


# --- the state file -------------------------------------------------------------------------


def test_up_records_the_bundle_and_down_forgets_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Docker(tmp_path, monkeypatch)
    run = tmp_path / "run"
    up(run, factor=30)
    state = read_state(run)
    assert state is not None
    assert state["mode"] == "compose"
    assert state["files"] == [str(COMPOSE_FILE), str(DRILL_FILE), str(CI_FILE)]
    assert (state["drill"], state["ci"], state["factor"]) == (True, True, 30)
    assert state["env"]["DRILL_PROVISIONING"] == str((run / "compose-drill").resolve())
    assert state["ports"]["backend-1"] == 8001 and state["ports"]["backend-2"] == 8002
    assert state["ports"]["prometheus"] == 9090 and state["ports"]["receiver"] == 8300

    stack = ComposeStack.attach(run)
    assert stack.settings.drill and stack.settings.factor == 30
    assert (stack.settings.backend_1_port, stack.settings.backend_2_port) == (8001, 8002)
    assert stack.run_dir == (run / "compose-drill").resolve(), "where the drills find the rendered tree"
    assert (stack.run_dir / "prometheus" / "prometheus.yml").is_file()
    assert stack.urls["backend-2"] == "http://127.0.0.1:8002"
    assert "grafana" not in stack.urls, "the CI variant has no Grafana"

    plan_compose(run, drill=True, ci=True, factor=30, environ={}, docker="docker", render=False)
    assert read_state(run) is None


def test_a_full_drill_bundle_lists_the_explore_services(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Docker(tmp_path, monkeypatch)
    up(tmp_path / "run", ci=False)
    stack = ComposeStack.attach(tmp_path / "run")
    assert stack.files == [COMPOSE_FILE, DRILL_FILE]
    assert {"grafana", "loki", "tempo", "alloy"} <= set(stack.urls)


# --- attach() -------------------------------------------------------------------------------


def test_attach_returns_a_compose_stack_for_a_compose_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Docker(tmp_path, monkeypatch)
    up(tmp_path / "run")
    assert isinstance(attach(tmp_path / "run"), ComposeStack)


def test_attach_returns_a_native_stack_for_a_native_state_file(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / STATE_FILE).write_text(
        json.dumps({"settings": {"run_dir": str(run), "drill": True}, "components": {}})
    )
    stack = attach(run)
    assert isinstance(stack, NativeStack)
    assert stack.settings.drill


def test_attach_without_any_state_names_the_directory(tmp_path: Path) -> None:
    with pytest.raises(StackError, match=r"no stack state in .*run"):
        attach(tmp_path / "run")


# --- the compose commands -------------------------------------------------------------------


def test_kill_is_compose_kill_with_sigkill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docker = Docker(tmp_path, monkeypatch)
    stack = compose_stack(tmp_path)
    stack.kill("backend-1")
    (argv, env), *_ = docker.calls()
    assert argv[:7] == ["compose", "-f", str(COMPOSE_FILE), "-f", str(DRILL_FILE), "-f", str(CI_FILE)]
    assert argv[7:] == ["kill", "--signal", "SIGKILL", "backend-1"]
    assert env == f"DRILL_PROVISIONING={stack.run_dir}", "the same variables as `up`"


def test_sigterm_is_a_graceful_compose_stop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docker = Docker(tmp_path, monkeypatch)
    compose_stack(tmp_path).kill("alertmanager", signal.SIGTERM)
    assert docker.commands() == [["stop", "--timeout", "5", "alertmanager"]]


def test_restart_and_start_wait_for_health(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, healthy_port: int
) -> None:
    docker = Docker(tmp_path, monkeypatch)
    stack = compose_stack(tmp_path, healthy_port)
    stack.restart("receiver", timeout=5)
    stack.start_component("backend-2", timeout=5)
    assert docker.commands() == [["restart", "--timeout", "5", "receiver"], ["start", "backend-2"]]


def test_a_component_that_never_gets_healthy_fails_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Docker(tmp_path, monkeypatch)
    stack = compose_stack(tmp_path, port=1)  # nothing listens on port 1
    with pytest.raises(StackError, match=r"backend-1 not healthy at http://127.0.0.1:1/health within 0.2 s"):
        stack.start_component("backend-1", timeout=0.2)


def test_an_unknown_component_is_refused_before_docker_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docker = Docker(tmp_path, monkeypatch)
    stack = compose_stack(tmp_path)
    with pytest.raises(StackError, match=r"unknown component 'grafana'; components: .*backend-1"):
        stack.kill("grafana")  # not part of the CI variant
    assert docker.commands() == []


def test_a_failing_compose_command_raises_with_its_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Docker(tmp_path, monkeypatch, fail="kill")
    with pytest.raises(StackError, match=r"kill --signal SIGKILL backend-1` exited 1: no such service"):
        compose_stack(tmp_path).kill("backend-1")


@pytest.mark.parametrize("layout", ["lines", "array"])
def test_status_reads_compose_ps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str) -> None:
    docker = Docker(tmp_path, monkeypatch)
    entries = [
        {"Service": "receiver", "State": "running", "Health": "healthy", "ID": "c1", "CreatedAt": "t1"},
        {"Service": "backend-1", "State": "exited", "Health": "", "ID": "c2", "CreatedAt": "t2"},
        {"Service": "prometheus", "State": "running", "Health": "starting", "ID": "c3", "CreatedAt": "t3"},
    ]
    docker.ps.write_text(
        "\n".join(json.dumps(e) for e in entries) + "\n" if layout == "lines" else json.dumps(entries) + "\n"
    )
    stack = compose_stack(tmp_path)
    statuses = {s.name: s for s in stack.status()}
    assert docker.commands() == [["ps", "--all", "--format", "json"]]
    assert set(statuses) == {
        "prometheus", "alertmanager", "blackbox", "backend-1", "backend-2", "upstreams", "loadgen", "receiver"
    }  # fmt: skip
    assert statuses["receiver"].running and statuses["receiver"].healthy
    assert not statuses["backend-1"].running
    assert statuses["prometheus"].running and not statuses["prometheus"].healthy
    assert not statuses["loadgen"].running, "no container at all"
    assert statuses["backend-1"].url == "http://127.0.0.1:8001"
    processes = stack.processes
    assert processes["receiver"].alive() and not processes["backend-1"].alive()
    assert (processes["receiver"].pid, processes["receiver"].create_time) == ("c1", "t1")


def test_stop_is_compose_down_and_forgets_the_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docker = Docker(tmp_path, monkeypatch)
    docker.ps.write_text(json.dumps({"Service": "receiver", "State": "running", "Health": "healthy"}) + "\n")
    stack = compose_stack(tmp_path)
    assert stack.stop() == ["receiver"]
    assert docker.commands() == [["ps", "--all", "--format", "json"], ["down"]]
    assert read_state(tmp_path / "run") is None


# --- no engine --------------------------------------------------------------------------------


def test_without_an_engine_attach_fails_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Docker(tmp_path, monkeypatch)
    up(tmp_path / "run")
    # The engine went away after `up`: a new stand-in whose `docker info` fails.
    monkeypatch.setenv("PATH", str(tmp_path / "none"))
    with pytest.raises(ComposeUnavailable, match=r"no `docker` on PATH.*python -m stack up"):
        attach(tmp_path / "run")
    other = tmp_path / "other"
    other.mkdir()
    docker = Docker(other, monkeypatch, info_status=1)
    with pytest.raises(ComposeUnavailable, match=r"no Docker engine answers `docker info`"):
        attach(tmp_path / "run")
    assert docker.commands() == [], "only the probe ran"


def test_without_an_engine_up_records_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Docker(tmp_path, monkeypatch, info_status=1)
    with pytest.raises(ComposeUnavailable):
        up(tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_plain_down_stops_a_compose_bundle_the_run_directory_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    docker = Docker(tmp_path, monkeypatch)
    run = tmp_path / "run"
    up(run)
    assert cli.main(["down", "--run-dir", str(run)]) == 0
    assert docker.commands()[-1] == ["down"]
    assert read_state(run) is None
    assert "no stack running" not in capsys.readouterr().out


def test_plain_down_without_an_engine_names_the_compose_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    Docker(tmp_path, monkeypatch)
    up(run)
    (tmp_path / "bin" / "docker").unlink()
    assert cli.main(["down", "--run-dir", str(run)]) == 2
    assert "no stack running" not in capsys.readouterr().out
    assert read_state(run) is not None, "the record stays until the bundle can be stopped"
