"""``python -m stack up|down --compose``: the same bundle through docker compose.

Compose runs the production files of ``provisioning/`` as they are. What the native runner
renders at every start is rendered here too, by the same code
(:func:`stack.native.render.render_tree` with :func:`compose_target`), and mounted over the
production files by an override, never by editing them:

- drill mode (``--drill``; ``--ci`` implies it): the whole Prometheus and Alertmanager tree,
  time-compressed, into ``<run dir>/compose-drill``, mounted by ``compose.drill.yaml``
  (``DRILL_PROVISIONING`` tells it where), plus the Prometheus flags whose timers the native
  drill stack compresses too (``DRILL_*`` variables of ``compose.drill.yaml``);
- production mode with any ``ALERTMANAGER_*`` URL override set: ``alertmanager.yml`` with the
  overrides into ``<run dir>/compose-am``, mounted by a generated override file next to it.
  Without an override, nothing is rendered and compose reads the file as written.

Whenever ``up`` renders into the run directory it also records the bundle there
(``compose-state.json``: mode ``compose``, the ``-f`` files, their environment, drill flag,
factor and published ports), so :func:`stack.native.attach` can hand the drills a
:class:`~stack.native.compose_stack.ComposeStack`; ``down`` removes the record. (A state file
of its own: the native commands find no native stack there instead of misreading it.)

Usage::

    plan = plan_compose(run_dir, drill=True, ci=False, factor=60, environ=os.environ,
                        docker=shutil.which("docker"))
    subprocess.run(plan.argv("up", "--detach", "--wait"), cwd=REPO_ROOT, env=plan.env)
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from stack.alerting import URL_OVERRIDES
from stack.native.render import (
    DRILL_FLAGS,
    Drill,
    compose_target,
    prometheus_drill_flags,
    render_alertmanager_dir,
    render_tree,
)
from stack.native.settings import REPO_ROOT
from stack.native.stack import StackError

__all__ = [
    "CI_FILE",
    "COMPOSE_FILE",
    "COMPOSE_STATE_FILE",
    "DRILL_FILE",
    "OVERRIDES_VARIABLE",
    "ComposePlan",
    "ComposeUnavailable",
    "check_engine",
    "compose_files",
    "plan_compose",
    "prometheus_drill_flags",
    "published_ports",
    "read_state",
    "remove_state",
    "write_state",
]

COMPOSE_FILE = REPO_ROOT / "compose.yaml"
DRILL_FILE = REPO_ROOT / "compose.drill.yaml"
CI_FILE = REPO_ROOT / "compose.ci.yaml"
DRILL_DIR = "compose-drill"
ALERTMANAGER_DIR = "compose-am"
COMPOSE_STATE_FILE = "compose-state.json"
# More compose files to merge last, separated by os.pathsep, relative to the checkout: e.g.
# compose.standin.yaml, the locally built images for a machine that reaches no registry.
OVERRIDES_VARIABLE = "STACK_COMPOSE_OVERRIDES"
# `docker info` answers in well under a second when an engine runs; a wedged socket must
# not hang `up`, which promises to fail fast without an engine.
PROBE_TIMEOUT_SECONDS = 15.0


# Prometheus flag -> (the variable compose.drill.yaml reads it from, its production default).
class ComposeUnavailable(StackError):
    """No usable Docker engine (or compose file); the message says what is missing and what to do."""


def drill_flag_variables(factor: float) -> dict[str, str]:
    """The ``DRILL_*`` variables ``compose.drill.yaml`` expands into Prometheus' command."""
    return {DRILL_FLAGS[flag][0]: value for flag, value in prometheus_drill_flags(factor).items()}


def check_engine(docker: str | None) -> str:
    """``docker`` (the client's path, None when not on PATH) when it and a running engine
    answer; else ComposeUnavailable saying what is missing."""
    if docker is None:
        raise ComposeUnavailable(
            "no `docker` on PATH; install Docker, or run the native stack: python -m stack up"
        )
    for probe, what in (
        ([docker, "info"], "no Docker engine answers `docker info`; start one"),
        (
            [docker, "compose", "version"],
            "`docker compose` (the Compose v2 plugin) is not installed; install it",
        ),
    ):
        try:
            result = subprocess.run(probe, capture_output=True, check=False, timeout=PROBE_TIMEOUT_SECONDS)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ComposeUnavailable(f"{what}, or run the native stack: python -m stack up ({exc})") from exc
        if result.returncode != 0:
            raise ComposeUnavailable(f"{what}, or run the native stack: python -m stack up")
    return docker


def compose_files(
    drill: bool = False, ci: bool = False, environ: Mapping[str, str] | None = None
) -> list[Path]:
    """The ``-f`` files, in merge order; the CI variant needs the drill render under it; the
    files ``STACK_COMPOSE_OVERRIDES`` names (in ``environ``, default the process's) come last."""
    names = (os.environ if environ is None else environ).get(OVERRIDES_VARIABLE, "")
    overrides = [REPO_ROOT / name.strip() for name in names.split(os.pathsep) if name.strip()]
    return [COMPOSE_FILE, *([DRILL_FILE] if drill or ci else []), *([CI_FILE] if ci else []), *overrides]


@dataclass(frozen=True)
class ComposePlan:
    """What to hand ``docker compose``: its ``-f`` files and the extra environment."""

    docker: str
    files: list[Path]
    env: dict[str, str] = field(default_factory=dict)
    rendered: list[Path] = field(default_factory=list)
    drill: bool = False
    ci: bool = False
    factor: float = 1.0

    def argv(self, *command: str) -> list[str]:
        return [self.docker, "compose", *(a for f in self.files for a in ("-f", str(f))), *command]

    def environ(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        return {**(os.environ if base is None else base), **self.env}


def _alertmanager_override_file(directory: Path) -> Path:
    """A compose override mounting the rendered ``alertmanager.yml`` over the production one
    (generated: its source path is absolute and belongs to this checkout)."""
    path = directory / "compose.alertmanager.yaml"
    path.write_text(
        "# Generated by `python -m stack up --compose`: alertmanager.yml with the ALERTMANAGER_*\n"
        "# URL overrides of the environment, mounted over the production file.\n"
        "services:\n"
        "  alertmanager:\n"
        "    volumes:\n"
        f"      - {(directory / 'alertmanager').resolve()}:/etc/alertmanager:ro\n"
    )
    return path


def plan_compose(
    run_dir: Path,
    *,
    drill: bool,
    ci: bool,
    factor: float,
    environ: Mapping[str, str],
    docker: str | None,
    provisioning_dir: Path | None = None,
    render: bool = True,
) -> ComposePlan:
    """Check the engine, render what compose needs under ``run_dir`` and say how to call it.
    ``environ`` gives the ``ALERTMANAGER_*`` URL overrides and ``STACK_COMPOSE_OVERRIDES``.
    ``docker`` is the client's path (None: not installed); ``render=False`` (for ``down``)
    only names the files, and removes the state file. Rendering writes the state file.

    Raises ComposeUnavailable before rendering anything, and RenderError for a bad file or override.
    """
    path = check_engine(docker)
    prov = provisioning_dir or REPO_ROOT / "provisioning"
    files = compose_files(drill, ci, environ)
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise ComposeUnavailable(f"{', '.join(missing)} not found")
    if not render:
        remove_state(run_dir)
    is_drill = drill or ci

    def planned(files: list[Path], env: dict[str, str], rendered: list[Path]) -> ComposePlan:
        return ComposePlan(path, files, env, rendered, is_drill, ci, factor if is_drill else 1.0)

    if is_drill:
        out = (run_dir / DRILL_DIR).resolve()
        env = {"DRILL_PROVISIONING": str(out), **drill_flag_variables(factor)}
        if not render:
            return planned(files, env, [])
        rendered = render_tree(prov, out, compose_target(native_jobs=ci), Drill(factor), environ)
        plan = planned(files, env, [rendered.prometheus_config, rendered.alertmanager_config])
        write_state(run_dir, plan)
        return plan
    if not render or not any(environ.get(var) for var in URL_OVERRIDES):
        return planned(files, {}, [])
    out = (run_dir / ALERTMANAGER_DIR).resolve()
    config, _ = render_alertmanager_dir(prov, out, compose_target(), None, environ)
    plan = planned([*files, _alertmanager_override_file(out)], {}, [config])
    write_state(run_dir, plan)
    return plan


# --- the state file ---------------------------------------------------------------------


def published_ports(compose_file: Path = COMPOSE_FILE) -> dict[str, int]:
    """Service -> the 127.0.0.1 port its first ``ports:`` entry publishes (backend-1 -> 8001)."""
    services = yaml.safe_load(compose_file.read_text(encoding="utf-8"))["services"]
    ports: dict[str, int] = {}
    for name, svc in services.items():
        for entry in svc.get("ports") or []:
            # "127.0.0.1:8001:8000" -> 8001
            ports[name] = int(str(entry).split(":")[-2])
            break
    return ports


def write_state(run_dir: Path, plan: ComposePlan) -> Path:
    """Record the bundle ``plan`` starts in ``run_dir/compose-state.json``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    state: dict[str, Any] = {
        "mode": "compose",
        "run_dir": str(run_dir.resolve()),
        "written_at": datetime.now(UTC).isoformat(),
        "files": [str(f) for f in plan.files],
        "env": plan.env,
        "drill": plan.drill,
        "ci": plan.ci,
        "factor": plan.factor,
        "ports": published_ports(),
    }
    path = run_dir / COMPOSE_STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(path)
    return path


def read_state(run_dir: Path) -> dict[str, Any] | None:
    """The record :func:`write_state` left in ``run_dir``; None when there is none."""
    path = run_dir / COMPOSE_STATE_FILE
    if not path.is_file():
        return None
    state: dict[str, Any] = json.loads(path.read_text())
    if state.get("mode") != "compose":
        raise StackError(f"{path}: mode {state.get('mode')!r} is not 'compose'")
    return state


def remove_state(run_dir: Path) -> None:
    (run_dir / COMPOSE_STATE_FILE).unlink(missing_ok=True)
