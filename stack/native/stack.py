"""The native stack as a Python object: start, wait until ready, stop, and the
single-component faults the e2e tier needs (restart Prometheus or Alertmanager with
their data kept, kill a backend).

Usage::

    with NativeStack(StackSettings(run_dir=tmp, drill=True)) as stack:
        stack.prometheus().wait_alert("Watchdog")
        stack.kill("backend-1")
"""

from __future__ import annotations

import json
import logging
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from stack.clients import AlertmanagerClient, BackendAdmin, PrometheusClient, ReceiverClient
from stack.native.components import (
    BINARIES,
    FETCH_HINT,
    Component,
    binary_problems,
    build_components,
    loadgen_available,
)
from stack.native.process import ProcessRef, log_tail, port_in_use, spawn, stop_process, stop_processes
from stack.native.render import count_rule_groups, render_all
from stack.native.settings import REPO_ROOT, StackSettings

__all__ = ["ComponentStatus", "NativeStack", "PreflightError", "StackError"]

STATE_FILE = "state.json"
log = logging.getLogger("stack.native")
# Prometheus 3.5 hands discovered targets to its scrape manager on a fixed 5 s tick (measured:
# Alertmanager discovered 5.08-5.09 s and the first scrape 5.3-5.8 s after start; no flag
# shortens it), so the other components have about
# this long to come up before its first scrape. The margin absorbs the jitter.
FIRST_DISCOVERY_SECONDS = 5.0
DISCOVERY_MARGIN_SECONDS = 0.5


class StackError(RuntimeError):
    """The stack could not start or be reached; the message says which component and why."""


class PreflightError(StackError):
    """Checked before anything starts: a binary is missing or a port is taken."""


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    url: str
    pid: int | None
    running: bool
    healthy: bool
    log: str

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "pid": self.pid,
            "running": self.running,
            "healthy": self.healthy,
            "log": self.log,
        }


class NativeStack:
    """Prometheus, Alertmanager, the blackbox exporter, two backends, the upstreams, the
    load generator and the receiver on 127.0.0.1, started from ``provisioning/``."""

    def __init__(self, settings: StackSettings | None = None, binaries: dict[str, str] | None = None) -> None:
        self.settings = settings or StackSettings()
        self.binaries = binaries or BINARIES
        self.run_dir = self.settings.run_dir.resolve()
        self.components: dict[str, Component] = {}
        self.processes: dict[str, ProcessRef] = {}
        self._popen: dict[str, subprocess.Popen[bytes]] = {}
        self.ready_seconds: float | None = None
        self.rule_groups = 0
        self._t0 = time.monotonic()
        # Seconds from start() to each readiness milestone (for figures and slow-start hunts).
        self.timings: dict[str, float] = {}
        # One client for every health probe: a new one per probe costs ~50 ms of TLS set-up.
        self._client: httpx.Client | None = None

    # --- lifecycle ---------------------------------------------------------------------

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def preflight(self) -> None:
        """Fail before starting anything: missing binaries, ports in use (by component name)."""
        problems = binary_problems(self.binaries)
        if problems:
            raise PreflightError(f"{'; '.join(problems)}; {FETCH_HINT}")
        ports = self.settings.ports()
        clashes: dict[int, list[str]] = {}
        for name, port in ports.items():
            clashes.setdefault(port, []).append(name)
        doubled = [
            f"{' and '.join(names)} share port {port}" for port, names in clashes.items() if len(names) > 1
        ]
        if doubled:
            raise PreflightError("; ".join(doubled))
        busy = [f"{name} (port {port})" for name, port in ports.items() if port_in_use(port)]
        if busy:
            raise PreflightError(
                f"port already in use: {', '.join(busy)}; stop what holds it (`python -m stack down` "
                "if it is a stack) or choose other ports (STACK_<NAME>_PORT or --<name>-port)"
            )

    def start(self) -> Self:
        """Render, start every process, wait until ready, write the state file. On any
        failure, stops what it started and re-raises."""
        t0 = self._t0 = time.monotonic()
        if self.settings.loadgen and not loadgen_available():
            # The load generator is optional for the stack itself; say so instead of failing.
            log.warning("sample_backend.loadgen is not installed; starting without a load generator")
            self.settings = self.settings.model_copy(update={"loadgen": False})
        self.preflight()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        # Each `up` starts from an empty TSDB and notification log: a previous run's `for`
        # state or notification log must not restore, or hold back, this run's alerts.
        # (restart() of one component keeps them; that is what it is for.)
        for data in ("prometheus", "alertmanager"):
            shutil.rmtree(self.run_dir / data / "data", ignore_errors=True)
        rendered = render_all(self.settings)
        self.rule_groups = count_rule_groups(rendered.rule_files)
        components = build_components(self.settings, rendered, self.binaries)
        self.components = {c.name: c for c in components}
        deadline = t0 + self.settings.ready_timeout_seconds
        try:
            self._start_all(deadline)
            self._write_state()
            self._wait_scraping(deadline)
            self._wait_rules(deadline)
        except BaseException:
            self.stop()
            raise
        self.ready_seconds = time.monotonic() - t0
        self._write_state()
        return self

    def _start_all(self, deadline: float) -> None:
        """Start Prometheus first and the rest at once, so its fixed ~5 s discovery delay
        overlaps their start-up. Its first scrape must find everything listening, or a
        start-up gap would fire BackendDown (1 s ``for`` in drill mode): if the others are
        not healthy in time, Prometheus is stopped, its (empty) data wiped, and it starts
        again once they are."""
        prometheus = self.components["prometheus"]
        others = [c for c in self.components.values() if c.name != "prometheus"]
        self._spawn(prometheus)
        spawned_at = time.monotonic()
        for component in others:
            self._spawn(component)
        self._write_state()
        budget = min(deadline, spawned_at + FIRST_DISCOVERY_SECONDS - DISCOVERY_MARGIN_SECONDS)
        if self._wait_healthy(others, budget, raise_on_timeout=False):
            return
        stop_process(self.processes.pop("prometheus"), 0, signal.SIGKILL)
        self._collect("prometheus")
        shutil.rmtree(self.run_dir / "prometheus" / "data", ignore_errors=True)
        self.timings["prometheus deferred (slow start-up)"] = time.monotonic() - self._t0
        self._wait_healthy(others, deadline)
        self._spawn(prometheus)

    def _wait_healthy(
        self, components: list[Component], deadline: float, raise_on_timeout: bool = True
    ) -> bool:
        for component in components:
            healthy = self._wait(
                lambda c=component: self._healthy(c),
                f"{component.name} healthy at {component.health_url}",
                max(0.0, deadline - time.monotonic()),
                component.name,
                raise_on_timeout,
            )
            if not healthy:
                return False
            self.timings.setdefault(f"{component.name} healthy", time.monotonic() - self._t0)
        return True

    def _spawn(self, component: Component) -> None:
        popen = spawn(component.argv, component.env, component.log_path(self.run_dir), REPO_ROOT)
        self._popen[component.name] = popen
        self.processes[component.name] = ProcessRef.of(popen.pid)

    def stop(self) -> list[str]:
        """Stop every process this stack started (SIGTERM, SIGKILL after the grace period).
        Returns the names that were still running."""
        # Prometheus first, so it does not record the others going down as alerts.
        stopped = stop_processes(self.processes, self.settings.stop_grace_seconds, first="prometheus")
        for popen in self._popen.values():
            if popen.poll() is None:
                popen.wait(1)
        self.processes.clear()
        self._popen.clear()
        if self._client is not None:
            self._client.close()
            self._client = None
        state = self.run_dir / STATE_FILE
        if state.exists():
            state.unlink()
        return stopped

    # --- one component -----------------------------------------------------------------

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill one component (SIGKILL by default: a crash, not a shutdown); its data stays."""
        ref = self._ref(name)
        stop_process(ref, self.settings.stop_grace_seconds, sig)
        self._collect(name)
        self._write_state()

    def start_component(self, name: str, timeout: float = 30.0) -> None:
        """Start a killed or stopped component again with the same command line and data."""
        component = self.components[name]
        if name in self.processes and self.processes[name].alive():
            raise StackError(f"{name} is already running (pid {self.processes[name].pid})")
        self._spawn(component)
        self._write_state()
        deadline = time.monotonic() + timeout
        self._wait(
            lambda: self._healthy(component), f"{name} healthy at {component.health_url}", timeout, name
        )
        if name == "prometheus":
            self._wait_rules(deadline)

    def restart(self, name: str, timeout: float = 30.0) -> None:
        """Graceful stop and start of one component, keeping its data directory (Prometheus'
        TSDB and restored ``for`` state, Alertmanager's silences and notification log)."""
        stop_process(self._ref(name), self.settings.stop_grace_seconds)
        self._collect(name)
        self.start_component(name, timeout)

    def _collect(self, name: str) -> None:
        """Let the Popen object see its process is gone (else Python warns at exit)."""
        popen = self._popen.pop(name, None)
        if popen is not None and popen.poll() is None:
            popen.wait(5)

    def _ref(self, name: str) -> ProcessRef:
        if name not in self.processes:
            raise StackError(f"unknown component {name!r}; components: {', '.join(self.processes)}")
        return self.processes[name]

    # --- readiness and status ----------------------------------------------------------

    @property
    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=2)
        return self._client

    def _healthy(self, component: Component) -> bool:
        try:
            return self._http.get(component.health_url).is_success
        except httpx.HTTPError:
            return False

    def _wait(
        self, check: Any, what: str, timeout: float, name: str | None = None, raise_on_timeout: bool = True
    ) -> bool:
        """Poll ``check``; a process that exits meanwhile fails at once, with its log."""
        deadline = time.monotonic() + timeout
        while not check():
            dead = [n for n, ref in self.processes.items() if not ref.alive()]
            if dead:
                log = self.components[dead[0]].log_path(self.run_dir)
                raise StackError(
                    f"{dead[0]} exited while waiting for {what}; last lines of {log}:\n{log_tail(log)}"
                )
            if time.monotonic() > deadline:
                if not raise_on_timeout:
                    return False
                own_log = self.components[name].log_path(self.run_dir) if name else None
                tail = f"; last lines of {own_log}:\n{log_tail(own_log)}" if own_log else ""
                raise StackError(f"{what} never happened within {timeout:g} s{tail}")
            time.sleep(0.05)
        return True

    def wait_ready(self, timeout: float) -> None:
        """Every component healthy, every Prometheus target up and probe succeeding,
        Alertmanager discovered, every rule group loaded."""
        deadline = time.monotonic() + timeout
        self._wait_scraping(deadline)
        self._wait_rules(deadline)

    def _wait_rules(self, deadline: float) -> None:
        t0 = self._t0
        with self.prometheus() as prom:
            self._wait(
                lambda: len(prom.rules()) >= self.rule_groups,
                f"Prometheus loading {self.rule_groups} rule groups",
                max(0.1, deadline - time.monotonic()),
                "prometheus",
            )
        self.timings["rules loaded"] = time.monotonic() - t0

    def _wait_scraping(self, deadline: float) -> None:
        timeout = max(0.1, deadline - time.monotonic())
        t0 = self._t0
        self._wait_healthy(list(self.components.values()), deadline)
        with self.prometheus() as prom:
            last: list[str] = []

            def targets_up() -> bool:
                nonlocal last
                try:
                    targets = prom.targets()
                    ams = prom.alertmanagers()
                except httpx.HTTPError as exc:
                    last = [str(exc)]
                    return False
                last = [
                    f"{t['scrapePool']} {t['scrapeUrl']} {t['health']} {t.get('lastError', '')}".strip()
                    for t in targets
                    if t["health"] != "up"
                ]
                if not targets:
                    last = ["no targets discovered yet"]
                if not ams:
                    last.append("no Alertmanager discovered yet")
                if not last:
                    # A probe target is "up" when the exporter answers; the probe itself
                    # must succeed too, or the probe alerts would start pending at once.
                    last = [
                        f"probe of {s['metric'].get('instance')} ({s['metric'].get('job')}) failing"
                        for s in prom.query("probe_success == 0")
                    ]
                return bool(targets) and bool(ams) and not last

            try:
                self._wait(targets_up, "every target up", max(0.1, deadline - time.monotonic()), "prometheus")
            except StackError as exc:
                culprit = self._component_of(last)
                log = self.components[culprit].log_path(self.run_dir) if culprit else None
                detail = f"\nlast lines of {log}:\n{log_tail(log)}" if log else ""
                raise StackError(
                    f"Prometheus targets never all up within {timeout:g} s: {'; '.join(last)}{detail}"
                ) from exc
        self.timings["every target up, Alertmanager discovered, probes succeed"] = time.monotonic() - t0

    def _component_of(self, problems: list[str]) -> str | None:
        """The component whose port appears first in a list of target problems."""
        for problem in problems:
            for c in self.components.values():
                if f"127.0.0.1:{c.port}/" in problem or problem.endswith(f":{c.port}"):
                    return c.name
        return None

    def status(self) -> list[ComponentStatus]:
        result = []
        for name, component in self.components.items():
            ref = self.processes.get(name)
            running = bool(ref and ref.alive())
            result.append(
                ComponentStatus(
                    name,
                    component.url,
                    ref.pid if ref else None,
                    running,
                    running and self._healthy(component),
                    str(component.log_path(self.run_dir)),
                )
            )
        return result

    # --- state file --------------------------------------------------------------------

    def _write_state(self) -> None:
        state = {
            "mode": "drill" if self.settings.drill else "native",
            "factor": self.settings.factor if self.settings.drill else 1,
            "run_dir": str(self.run_dir),
            "written_at": datetime.now(UTC).isoformat(),
            "ready_seconds": self.ready_seconds,
            "timings": self.timings,
            "rule_groups": self.rule_groups,
            "settings": self.settings.model_dump(mode="json"),
            "components": {
                name: {
                    **c.as_json(),
                    "url": c.url,
                    **(self.processes[name].as_json() if name in self.processes else {}),
                }
                for name, c in self.components.items()
            },
        }
        path = self.run_dir / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        tmp.replace(path)

    @classmethod
    def attach(cls, run_dir: Path) -> NativeStack:
        """The stack described by ``run_dir/state.json`` (for ``down`` and ``status``)."""
        path = run_dir / STATE_FILE
        if not path.is_file():
            raise StackError(f"no stack state in {path}: is a stack running from {run_dir}?")
        state = json.loads(path.read_text())
        stack = cls(StackSettings(**state["settings"]))
        stack.ready_seconds = state.get("ready_seconds")
        stack.rule_groups = state.get("rule_groups", 0)
        for name, data in state["components"].items():
            stack.components[name] = Component.from_json(data)
            if "pid" in data:
                stack.processes[name] = ProcessRef(data["pid"], data["create_time"])
        return stack

    # --- clients and URLs --------------------------------------------------------------

    @property
    def urls(self) -> dict[str, str]:
        return {name: c.url for name, c in self.components.items()}

    def prometheus(self) -> PrometheusClient:
        return PrometheusClient(f"http://127.0.0.1:{self.settings.prometheus_port}")

    def alertmanager(self) -> AlertmanagerClient:
        return AlertmanagerClient(f"http://127.0.0.1:{self.settings.alertmanager_port}")

    def receiver(self) -> ReceiverClient:
        return ReceiverClient(f"http://127.0.0.1:{self.settings.receiver_port}")

    def backend(self, name: str = "backend-1") -> BackendAdmin:
        port = {"backend-1": self.settings.backend_1_port, "backend-2": self.settings.backend_2_port}[name]
        return BackendAdmin(f"http://127.0.0.1:{port}", self.settings.admin_token)
