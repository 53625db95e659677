"""The command line: subcommand registry, and the answers that need no running stack."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

import stack.clients
import stack.native
import stack.receiver
from stack import cli


def test_builtin_commands_are_registered() -> None:
    assert {"up", "down", "status"} <= set(cli.COMMANDS)


def test_a_registered_command_gets_its_own_subparser(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[argparse.Namespace] = []

    def configure(parser: argparse.ArgumentParser) -> None:
        cli.add_stack_arguments(parser)
        parser.add_argument("scenario", nargs="*")

    def run(args: argparse.Namespace) -> int:
        seen.append(args)
        return 7

    monkeypatch.setitem(cli.COMMANDS, "example", cli.Command("example", "An example.", configure, run))
    assert cli.main(["example", "--drill", "--receiver-port", "18300", "a", "b"]) == 7
    settings = cli.settings_from_args(seen[0])
    assert settings.drill is True
    assert settings.receiver_port == 18300
    assert seen[0].scenario == ["a", "b"]


def test_status_without_a_stack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["status", "--run-dir", str(tmp_path), "--json"]) == 3
    assert json.loads(capsys.readouterr().out) == {
        "running": False,
        "run_dir": str(tmp_path),
        "healthy": False,
        "components": [],
    }


def test_down_without_a_stack_is_not_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["down", "--run-dir", str(tmp_path)]) == 0
    assert "no stack running" in capsys.readouterr().out


def test_up_compose_without_docker_explains(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli.shutil, "which", lambda name: None)
    assert cli.main(["up", "--compose"]) == 2
    assert "no `docker` on PATH" in capsys.readouterr().out


def test_bad_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STACK_PROMETHEUS_PORT", "not-a-port")
    assert cli.main(["up"]) == 2
    assert "STACK_PROMETHEUS_PORT" in capsys.readouterr().err


def test_public_names() -> None:
    assert sorted(stack.clients.__all__) == [
        "AlertmanagerClient",
        "ApiError",
        "BackendAdmin",
        "PrometheusClient",
        "ReceiverClient",
        "WaitTimeout",
        "component_versions",
        "poll",
    ]
    assert sorted(stack.native.__all__) == [
        "Component",
        "ComponentStatus",
        "FETCH_HINT",
        "NativeStack",
        "PreflightError",
        "RenderError",
        "StackError",
        "StackSettings",
    ]
    assert sorted(stack.receiver.__all__) == ["Delivery", "PayloadError", "ReceiverSettings", "create_app"]
