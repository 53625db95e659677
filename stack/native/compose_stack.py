"""A handle on a running stack, whichever way it runs: the :class:`StackHandle` protocol,
:class:`ComposeStack` (the compose bundle, driven through ``docker compose``) and
:func:`attach`, which picks the right one from the run directory's state file.

The drills use a stack through :class:`StackHandle` only, so they run unchanged against the
native processes or the containers::

    stack = attach(Path(".stack"))      # NativeStack or ComposeStack
    stack.kill("backend-1")             # SIGKILL: a process, or `docker compose kill`
    stack.start_component("backend-1")  # back, and healthy
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from stack.clients import AlertmanagerClient, BackendAdmin, PrometheusClient, ReceiverClient
from stack.native.compose import DRILL_DIR, check_engine, read_state, remove_state
from stack.native.render import count_rule_groups
from stack.native.settings import REPO_ROOT, StackSettings
from stack.native.stack import STATE_FILE, ComponentStatus, NativeStack, StackError

__all__ = ["ComposeStack", "ContainerRef", "StackHandle", "attach"]

# What `docker compose kill|stop|restart|start|ps` may take: `stop` waits out the grace period
# of every named container, `start` returns once the container runs (health is polled after).
COMMAND_TIMEOUT_SECONDS = 120.0
# Each service's own readiness endpoint, on its published port: polled after start/restart,
# because compose's healthcheck runs only every 5 s and a compressed drill cannot wait that long.
HEALTH_PATHS = {
    "prometheus": "/-/ready",
    "alertmanager": "/-/ready",
    "blackbox": "/-/healthy",
    "loki": "/ready",
    "tempo": "/ready",
    "alloy": "/-/ready",
    "grafana": "/api/health",
}
DEFAULT_HEALTH_PATH = "/health"
# Services the CI variant (compose.ci.yaml) moves to the `explore` profile.
EXPLORE_SERVICES = ("grafana", "loki", "tempo", "alloy")


class StackHandle(Protocol):
    """What the drills (and ``status``) use of a running stack."""

    settings: StackSettings
    run_dir: Path

    @property
    def urls(self) -> dict[str, str]: ...

    def status(self) -> list[ComponentStatus]: ...

    def prometheus(self) -> PrometheusClient: ...

    def alertmanager(self) -> AlertmanagerClient: ...

    def receiver(self) -> ReceiverClient: ...

    def backend(self, name: str = ...) -> BackendAdmin: ...

    def kill(self, name: str, sig: int = ...) -> None: ...

    def restart(self, name: str, timeout: float = ...) -> None: ...

    def start_component(self, name: str, timeout: float = ...) -> None: ...

    def stop(self) -> list[str]: ...


@dataclass(frozen=True)
class ContainerRef:
    """One container as ``docker compose ps`` saw it; ``pid``/``create_time`` identify it the
    way a process's do (a recreated container is another one, a restarted one is not)."""

    pid: str
    create_time: str
    running: bool

    def alive(self) -> bool:
        return self.running


def _ps_entries(out: str) -> list[dict[str, Any]]:
    """``docker compose ps --format json`` prints a JSON array (Compose < 2.21) or one JSON
    object per line (later releases); both are accepted."""
    text = out.strip()
    if not text:
        return []
    if text.startswith("["):
        entries: list[dict[str, Any]] = json.loads(text)
        return entries
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class ComposeStack:
    """The compose bundle ``python -m stack up --compose`` started, recorded in its run
    directory. ``run_dir`` is the rendered tree compose mounts (``<run dir>/compose-drill``
    in drill mode), where the drills read timers and drop rule files; ``state_dir`` is the run
    directory itself."""

    def __init__(self, state: dict[str, Any], docker: str) -> None:
        self.docker = docker
        self.files = [Path(f) for f in state["files"]]
        self.env: dict[str, str] = dict(state.get("env", {}))
        self.ci = bool(state.get("ci", False))
        self.state_dir = Path(state["run_dir"])
        self.ports: dict[str, int] = {name: int(port) for name, port in state["ports"].items()}
        drill = bool(state.get("drill", False))
        self.run_dir = self.state_dir / DRILL_DIR if drill else self.state_dir
        self.settings = StackSettings(
            run_dir=self.state_dir,
            drill=drill,
            factor=float(state.get("factor", 1.0)),
            prometheus_port=self.ports["prometheus"],
            alertmanager_port=self.ports["alertmanager"],
            blackbox_port=self.ports["blackbox"],
            backend_1_port=self.ports["backend-1"],
            backend_2_port=self.ports["backend-2"],
            upstreams_port=self.ports["upstreams"],
            loadgen_port=self.ports["loadgen"],
            receiver_port=self.ports["receiver"],
            # The token the backends got: compose.yaml reads BACKEND_ADMIN_TOKEN.
            admin_token=os.environ.get("BACKEND_ADMIN_TOKEN", "dev-admin-token"),
        )
        self.services = [s for s in self.ports if not (self.ci and s in EXPLORE_SERVICES)]

    @classmethod
    def attach(cls, run_dir: Path, docker: str | None = None) -> ComposeStack:
        """The bundle recorded in ``run_dir``; StackError without a record, ComposeUnavailable
        (a StackError) without a Docker engine."""
        state = read_state(run_dir)
        if state is None:
            raise StackError(f"no compose bundle recorded in {run_dir}: run `python -m stack up --compose`")
        return cls(state, check_engine(docker if docker is not None else shutil.which("docker")))

    # --- docker compose ------------------------------------------------------------------

    def argv(self, *command: str) -> list[str]:
        return [self.docker, "compose", *(a for f in self.files for a in ("-f", str(f))), *command]

    def compose(self, *command: str) -> str:
        """Run ``docker compose -f ... <command>``; its stdout, or StackError with its stderr."""
        argv = self.argv(*command)
        try:
            result = subprocess.run(
                argv,
                cwd=REPO_ROOT,
                env={**os.environ, **self.env},
                capture_output=True,
                text=True,
                check=False,
                timeout=COMMAND_TIMEOUT_SECONDS,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise StackError(f"`{' '.join(argv)}` failed: {exc}") from exc
        if result.returncode != 0:
            raise StackError(
                f"`{' '.join(argv)}` exited {result.returncode}: {result.stderr.strip()[-2000:]}"
            )
        return result.stdout

    def _service(self, name: str) -> str:
        if name not in self.services:
            raise StackError(f"unknown component {name!r}; components: {', '.join(self.services)}")
        return name

    # --- one component ---------------------------------------------------------------------

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """SIGKILL (a crash) by ``docker compose kill``; SIGTERM is a graceful ``stop``."""
        service = self._service(name)
        if sig == signal.SIGTERM:
            self.compose("stop", "--timeout", f"{self.settings.stop_grace_seconds:g}", service)
        else:
            self.compose("kill", "--signal", signal.Signals(sig).name, service)

    def start_component(self, name: str, timeout: float = 30.0) -> None:
        """Start a killed or stopped container again (same container, same volumes)."""
        self.compose("start", self._service(name))
        self._wait_healthy(name, timeout)

    def restart(self, name: str, timeout: float = 30.0) -> None:
        """Graceful stop and start of one container; its volume (TSDB, silences) stays."""
        self.compose("restart", "--timeout", f"{self.settings.stop_grace_seconds:g}", self._service(name))
        self._wait_healthy(name, timeout)

    def stop(self) -> list[str]:
        """``docker compose down`` (volumes stay) and forget the record; returns the services
        that were running."""
        running = [s.name for s in self.status() if s.running]
        self.compose("down")
        remove_state(self.state_dir)
        return running

    def _health_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}{HEALTH_PATHS.get(name, DEFAULT_HEALTH_PATH)}"

    def _healthy(self, name: str, client: httpx.Client) -> bool:
        try:
            return client.get(self._health_url(name)).is_success
        except httpx.HTTPError:
            return False

    def _wait_healthy(self, name: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2) as client:
            while not self._healthy(name, client):
                if time.monotonic() > deadline:
                    raise StackError(
                        f"{name} not healthy at {self._health_url(name)} within {timeout:g} s; "
                        f"see `docker compose logs {name}`"
                    )
                time.sleep(0.05)
        if name == "prometheus" and self.settings.drill:
            self._wait_rules(deadline)

    def _wait_rules(self, deadline: float) -> None:
        """Every rendered rule group loaded again (as the native stack waits after a start)."""
        groups = count_rule_groups(sorted((self.run_dir / "prometheus" / "rules").glob("*.yml")))
        with self.prometheus() as prom:
            while True:
                try:
                    if len(prom.rules()) >= groups:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise StackError(f"Prometheus did not load {groups} rule groups in time")
                time.sleep(0.05)

    # --- status ------------------------------------------------------------------------------

    @property
    def processes(self) -> dict[str, ContainerRef]:
        """Service -> its container (what the drills' undo and group memory look at)."""
        return {
            str(e["Service"]): ContainerRef(
                str(e.get("ID", "")), str(e.get("CreatedAt", "")), e.get("State") == "running"
            )
            for e in _ps_entries(self.compose("ps", "--all", "--format", "json"))
        }

    def status(self) -> list[ComponentStatus]:
        """One entry per service of the variant; a service without a container is not running.
        Health is compose's healthcheck verdict."""
        seen = {str(e["Service"]): e for e in _ps_entries(self.compose("ps", "--all", "--format", "json"))}
        result = []
        for name in self.services:
            entry = seen.get(name, {})
            running = entry.get("State") == "running"
            result.append(
                ComponentStatus(
                    name,
                    self.urls[name],
                    None,
                    running,
                    running and entry.get("Health") in ("healthy", ""),
                    f"docker compose logs {name}",
                )
            )
        return result

    # --- clients and URLs --------------------------------------------------------------------

    @property
    def urls(self) -> dict[str, str]:
        return {name: f"http://127.0.0.1:{self.ports[name]}" for name in self.services}

    def prometheus(self) -> PrometheusClient:
        return PrometheusClient(self.urls["prometheus"])

    def alertmanager(self) -> AlertmanagerClient:
        return AlertmanagerClient(self.urls["alertmanager"])

    def receiver(self) -> ReceiverClient:
        return ReceiverClient(self.urls["receiver"])

    def backend(self, name: str = "backend-1") -> BackendAdmin:
        if name not in ("backend-1", "backend-2"):
            raise StackError(f"unknown backend {name!r}; backends: backend-1, backend-2")
        return BackendAdmin(self.urls[name], self.settings.admin_token)


def attach(run_dir: Path) -> StackHandle:
    """The stack running from ``run_dir``: a :class:`ComposeStack` when ``up --compose``
    recorded one there, else the :class:`NativeStack` of its state file. StackError when
    neither is there; ComposeUnavailable (a StackError) for a compose record without an engine."""
    if read_state(run_dir) is not None:
        return ComposeStack.attach(run_dir)
    if not (run_dir / STATE_FILE).is_file():
        raise StackError(f"no stack state in {run_dir}: is a stack running from {run_dir}?")
    return NativeStack.attach(run_dir)


if TYPE_CHECKING:
    # mypy proves both handles satisfy the protocol the drills are written against.
    def _conforms(native: NativeStack, compose: ComposeStack) -> tuple[StackHandle, StackHandle]:
        return native, compose
