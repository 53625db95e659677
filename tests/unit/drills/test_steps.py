"""Stack steps a scenario may take, and the load drill mode gives the processes it starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from stack.drills.model import StackStep
from stack.native.components import build_components
from stack.native.render import render_all
from stack.native.settings import DRILL_ENV, StackSettings


@pytest.mark.parametrize(
    "step",
    [
        {"action": "reset_token_budget", "component": "backend-2", "when": "clear", "undo": "never"},
        {"action": "restart", "component": "alertmanager", "when": "notified", "undo": "never"},
    ],
)
def test_valid_steps(step: dict[str, Any]) -> None:
    assert StackStep.model_validate(step).action == step["action"]


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"action": "reset_token_budget", "component": "prometheus", "undo": "never"}, "backend-1"),
        ({"action": "reset_token_budget", "component": "backend-1"}, "undo: never"),
        ({"action": "kill", "component": "blackbox", "when": "clear"}, "undo: never"),
        (
            {"action": "fail_receiver", "seconds": 60, "undo": "firing", "undo_after_seconds": 9},
            "undo_after_seconds",
        ),
    ],
)
def test_invalid_steps_say_why(step: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        StackStep.model_validate(step)


def envs(tmp_path: Path, drill: bool) -> dict[str, dict[str, str]]:
    settings = StackSettings(run_dir=tmp_path, drill=drill)
    return {c.name: c.env for c in build_components(settings, render_all(settings, {}))}


def test_drill_mode_gives_its_load_to_the_loadgen_and_backends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for env in DRILL_ENV.values():
        for key in env:
            monkeypatch.delenv(key, raising=False)
    drill = envs(tmp_path, drill=True)
    for name, wanted in DRILL_ENV.items():
        assert wanted.items() <= drill[name].items(), name
    normal = envs(tmp_path, drill=False)
    assert not any(key in normal[name] for name, env in DRILL_ENV.items() for key in env)


def test_a_variable_set_in_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOADGEN_RATE", "3")
    monkeypatch.delenv("LOADGEN_MAX_IN_FLIGHT", raising=False)
    loadgen = envs(tmp_path, drill=True)["loadgen"]
    # Not set by the stack: the process inherits the environment's value.
    assert "LOADGEN_RATE" not in loadgen
    assert loadgen["LOADGEN_MAX_IN_FLIGHT"] == DRILL_ENV["loadgen"]["LOADGEN_MAX_IN_FLIGHT"]
