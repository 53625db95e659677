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

Usage::

    plan = plan_compose(run_dir, drill=True, ci=False, factor=60, environ=os.environ,
                        docker=shutil.which("docker"))
    subprocess.run(plan.argv("up", "--detach", "--wait"), cwd=REPO_ROOT, env=plan.env)
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from stack.alerting import URL_OVERRIDES
from stack.native.render import Drill, compose_target, render_alertmanager_dir, render_tree
from stack.native.settings import REPO_ROOT
from stack.timecompress import Compression

__all__ = [
    "CI_FILE",
    "COMPOSE_FILE",
    "DRILL_FILE",
    "ComposePlan",
    "ComposeUnavailable",
    "check_engine",
    "compose_files",
    "plan_compose",
    "prometheus_drill_flags",
]

COMPOSE_FILE = REPO_ROOT / "compose.yaml"
DRILL_FILE = REPO_ROOT / "compose.drill.yaml"
CI_FILE = REPO_ROOT / "compose.ci.yaml"
DRILL_DIR = "compose-drill"
ALERTMANAGER_DIR = "compose-am"
# `docker info` answers in well under a second when an engine runs; a wedged socket must
# not hang `up`, which promises to fail fast without an engine.
PROBE_TIMEOUT_SECONDS = 15.0

# Prometheus flag -> (the variable compose.drill.yaml reads it from, its production default).
# Alert re-sends, restart grace and outage tolerance scale with the rules, so "Alertmanager
# restarted while an alert fires" recovers in seconds, as it would in minutes.
_DRILL_FLAGS = {
    "--rules.alert.resend-delay": ("DRILL_RESEND_DELAY", "1m"),
    "--rules.alert.for-grace-period": ("DRILL_FOR_GRACE_PERIOD", "10m"),
    "--rules.alert.for-outage-tolerance": ("DRILL_FOR_OUTAGE_TOLERANCE", "1h"),
}


class ComposeUnavailable(RuntimeError):
    """No usable Docker engine (or compose file); the message says what is missing and what to do."""


def prometheus_drill_flags(factor: float) -> dict[str, str]:
    """``{flag: compressed value}`` for drill mode, with the same 1 s floor the native
    drill stack uses."""
    c = Compression(factor)
    return {flag: c.scale(default, 1000) for flag, (_, default) in _DRILL_FLAGS.items()}


def drill_flag_variables(factor: float) -> dict[str, str]:
    """The ``DRILL_*`` variables ``compose.drill.yaml`` expands into Prometheus' command."""
    return {_DRILL_FLAGS[flag][0]: value for flag, value in prometheus_drill_flags(factor).items()}


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


def compose_files(drill: bool = False, ci: bool = False) -> list[Path]:
    """The ``-f`` files, in merge order; the CI variant needs the drill render under it."""
    return [COMPOSE_FILE, *([DRILL_FILE] if drill or ci else []), *([CI_FILE] if ci else [])]


@dataclass(frozen=True)
class ComposePlan:
    """What to hand ``docker compose``: its ``-f`` files and the extra environment."""

    docker: str
    files: list[Path]
    env: dict[str, str] = field(default_factory=dict)
    rendered: list[Path] = field(default_factory=list)

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
    ``docker`` is the client's path (None: not installed); ``render=False`` (for ``down``)
    only names the files.

    Raises ComposeUnavailable before rendering anything, and RenderError for a bad file or override.
    """
    path = check_engine(docker)
    prov = provisioning_dir or REPO_ROOT / "provisioning"
    files = compose_files(drill, ci)
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise ComposeUnavailable(f"{', '.join(missing)} not found")
    if drill or ci:
        out = (run_dir / DRILL_DIR).resolve()
        env = {"DRILL_PROVISIONING": str(out), **drill_flag_variables(factor)}
        if not render:
            return ComposePlan(path, files, env)
        rendered = render_tree(prov, out, compose_target(native_jobs=ci), Drill(factor), environ)
        return ComposePlan(path, files, env, [rendered.prometheus_config, rendered.alertmanager_config])
    if not render or not any(environ.get(var) for var in URL_OVERRIDES):
        return ComposePlan(path, files)
    out = (run_dir / ALERTMANAGER_DIR).resolve()
    config, _ = render_alertmanager_dir(prov, out, compose_target(), None, environ)
    return ComposePlan(path, [*files, _alertmanager_override_file(out)], {}, [config])
