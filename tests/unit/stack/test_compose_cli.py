"""``python -m stack up|down --compose``: fails fast without an engine, renders what the
mode needs and hands docker compose the right files - checked with a stand-in ``docker``
that records how it was called."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from stack import cli
from stack.alerting import URL_OVERRIDES
from stack.native.compose import CI_FILE, COMPOSE_FILE, DRILL_FILE

FAKE_DOCKER = """#!/bin/sh
# Stand-in docker: `info` answers as the engine's exit status says; every call is recorded.
echo "$*" >> "{log}"
echo "DRILL_PROVISIONING=$DRILL_PROVISIONING DRILL_RESEND_DELAY=$DRILL_RESEND_DELAY" >> "{log}"
if [ "$1" = info ]; then exit {info_status}; fi
exit 0
"""


def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, info_status: int = 0) -> Path:
    """Put a recording ``docker`` first (and alone) on PATH; returns its log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "docker.log"
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER.format(log=log, info_status=info_status))
    docker.chmod(docker.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(bin_dir))
    return log


def compose_call(log: Path) -> tuple[list[str], str]:
    """The recorded ``docker compose ... up|down`` argv (after ``docker``) and its env line."""
    lines = log.read_text().splitlines()
    calls = [(lines[i].split(), lines[i + 1]) for i in range(0, len(lines), 2)]
    compose = [c for c in calls if c[0][:1] == ["compose"] and c[0][1:2] != ["version"]]
    assert len(compose) == 1, calls
    return compose[0]


def files_of(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == "-f"]


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in URL_OVERRIDES:
        monkeypatch.delenv(var, raising=False)


@pytest.mark.parametrize(
    "command", [["up", "--compose"], ["up", "--compose", "--drill"], ["down", "--compose"]]
)
def test_without_docker_on_path_fails_fast_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert cli.main([*command, "--run-dir", str(tmp_path / "run")]) == 2
    out = capsys.readouterr().out
    assert "no `docker` on PATH" in out and "python -m stack up" in out
    assert not (tmp_path / "run").exists(), "nothing is rendered before the engine check"


def test_without_an_engine_fails_fast_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    log = fake_docker(tmp_path, monkeypatch, info_status=1)
    assert cli.main(["up", "--compose", "--drill", "--run-dir", str(tmp_path / "run")]) == 2
    assert "no Docker engine answers `docker info`" in capsys.readouterr().out
    assert log.read_text().splitlines()[0] == "info", "only the probe ran"
    assert not (tmp_path / "run").exists()


def test_production_up_uses_the_files_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = fake_docker(tmp_path, monkeypatch)
    assert cli.main(["up", "--compose", "--run-dir", str(tmp_path / "run")]) == 0
    argv, _ = compose_call(log)
    assert files_of(argv) == [str(COMPOSE_FILE)]
    assert argv[-3:] == ["up", "--detach", "--wait"]
    assert not (tmp_path / "run").exists()


def test_drill_up_renders_first_and_mounts_the_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = fake_docker(tmp_path, monkeypatch)
    run = tmp_path / "run"
    assert cli.main(["up", "--compose", "--drill", "--factor", "30", "--run-dir", str(run)]) == 0
    argv, env = compose_call(log)
    assert files_of(argv) == [str(COMPOSE_FILE), str(DRILL_FILE)]
    rendered = run.resolve() / "compose-drill"
    # compose.drill.yaml reads the rendered tree's location and the compressed Prometheus flags.
    assert env == f"DRILL_PROVISIONING={rendered} DRILL_RESEND_DELAY=2s"
    prom = yaml.safe_load((rendered / "prometheus" / "prometheus.yml").read_text())
    assert prom["global"]["scrape_interval"] == "1s"
    assert "grafana" in {j["job_name"] for j in prom["scrape_configs"]}
    assert (rendered / "alertmanager" / "templates" / "notifications.tmpl").is_file()


def test_ci_up_implies_drill_and_drops_the_absent_components_jobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = fake_docker(tmp_path, monkeypatch)
    run = tmp_path / "run"
    assert cli.main(["up", "--compose", "--ci", "--run-dir", str(run)]) == 0
    argv, _ = compose_call(log)
    assert files_of(argv) == [str(COMPOSE_FILE), str(DRILL_FILE), str(CI_FILE)]
    prom = yaml.safe_load((run / "compose-drill" / "prometheus" / "prometheus.yml").read_text())
    jobs = {j["job_name"] for j in prom["scrape_configs"]}
    assert not jobs & {"grafana", "loki", "tempo", "alloy"}
    assert prom["global"]["scrape_interval"] == "1s"


def test_production_up_with_an_override_mounts_a_rendered_alertmanager_yml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = fake_docker(tmp_path, monkeypatch)
    monkeypatch.setenv("ALERTMANAGER_PAGERDUTY_URL", "https://events.pagerduty.test/v2/enqueue")
    run = tmp_path / "run"
    assert cli.main(["up", "--compose", "--run-dir", str(run)]) == 0
    argv, _ = compose_call(log)
    files = files_of(argv)
    assert files[0] == str(COMPOSE_FILE) and len(files) == 2
    override: dict[str, Any] = yaml.safe_load(Path(files[1]).read_text())
    mount = override["services"]["alertmanager"]["volumes"][0]
    source, target, mode = mount.rsplit(":", 2)
    assert (target, mode) == ("/etc/alertmanager", "ro")
    am = yaml.safe_load((Path(source) / "alertmanager.yml").read_text())
    pager = next(r for r in am["receivers"] if r["name"] == "pager")
    assert pager["pagerduty_configs"][0]["url"] == "https://events.pagerduty.test/v2/enqueue"
    # Production timers and compose addresses: only the override differs.
    assert am["route"]["group_wait"] == "30s"
    assert any(r["name"] == "heartbeat" and "receiver:8300" in str(r) for r in am["receivers"])
    assert (Path(source) / "templates" / "notifications.tmpl").is_file()


def test_a_bad_override_fails_before_compose_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    log = fake_docker(tmp_path, monkeypatch)
    prov = tmp_path / "provisioning"
    (prov / "alertmanager").mkdir(parents=True)
    (prov / "alertmanager" / "alertmanager.yml").write_text("route: {receiver: x}\nreceivers: [{name: x}]\n")
    monkeypatch.setenv("STACK_PROVISIONING_DIR", str(prov))
    monkeypatch.setenv("ALERTMANAGER_HEARTBEAT_URL", "https://hb.test/")
    assert cli.main(["up", "--compose", "--run-dir", str(tmp_path / "run")]) == 1
    assert "ALERTMANAGER_HEARTBEAT_URL" in capsys.readouterr().err
    assert not [line for line in log.read_text().splitlines() if line.startswith("compose -f")]


def test_down_passes_the_same_files_and_renders_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = fake_docker(tmp_path, monkeypatch)
    run = tmp_path / "run"
    assert cli.main(["down", "--compose", "--ci", "--run-dir", str(run)]) == 0
    argv, env = compose_call(log)
    assert files_of(argv) == [str(COMPOSE_FILE), str(DRILL_FILE), str(CI_FILE)]
    assert argv[-1] == "down"
    assert env.startswith(f"DRILL_PROVISIONING={run.resolve() / 'compose-drill'} ")
    assert not run.exists()


def test_compose_failure_is_the_exit_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = fake_docker(tmp_path, monkeypatch)
    docker = Path(os.environ["PATH"]) / "docker"
    docker.write_text(
        docker.read_text().replace("exit 0\n", 'if [ "$1" = compose ] && [ "$2" = -f ]; then exit 7; fi\n')
    )
    assert cli.main(["up", "--compose", "--run-dir", str(tmp_path / "run")]) == 7
    assert compose_call(log)[0][-1] == "--wait"


@pytest.mark.parametrize("command", ["up", "down"])
def test_ci_without_compose_is_refused(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([command, "--ci"]) == 2
    assert "needs --compose" in capsys.readouterr().err
