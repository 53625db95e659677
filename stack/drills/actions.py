"""What a drill does to the stack: switch faults on and off through the backends' fault
API, and the stack steps (kill, stop, restart a component, make the receiver fail, load a
rule group into Prometheus, start a new token budget day) with their undo.

Every action is idempotent to undo, so a drill that fails half-way can always clean up.
"""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from stack.clients import BackendAdmin, PrometheusClient, ReceiverClient
from stack.drills.model import FaultStep, StackStep

__all__ = ["Actions", "StackControl"]


class StackControl(Protocol):
    """The part of :class:`~stack.native.NativeStack` drills use."""

    run_dir: Path

    def kill(self, name: str, sig: int = ...) -> None: ...

    def start_component(self, name: str, timeout: float = ...) -> None: ...

    def restart(self, name: str, timeout: float = ...) -> None: ...


def _rule_file(run_dir: Path, group: str) -> Path:
    # "zz-" sorts after the provisioning files; the rendered rules directory is rewritten
    # at every `up`, so a file left by a crashed drill does not outlive the stack.
    return run_dir / "prometheus" / "rules" / f"zz-drill-{group}.yml"


@dataclass
class Actions:
    """Performs and undoes one drill's faults and stack steps."""

    stack: StackControl
    backends: dict[str, BackendAdmin]
    receiver: ReceiverClient
    prometheus: PrometheusClient
    # Stack operations of concurrent drills touch shared state (the state file).
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- faults ------------------------------------------------------------------------

    def inject(self, step: FaultStep) -> None:
        for instance in step.instances:
            self.backends[instance].set(step.fault, **step.params)

    def clear(self, step: FaultStep) -> list[str]:
        """Switch the fault off; returns what could not be cleared (an instance that is down
        has no faults to clear, which is not an error)."""
        problems = []
        for instance in step.instances:
            try:
                self.backends[instance].clear(step.fault)
            except Exception as exc:  # cleanup reports, never raises
                if self.backends[instance].healthy():
                    problems.append(f"clear {step.fault} on {instance}: {exc}")
        return problems

    # --- stack steps -------------------------------------------------------------------

    def do(self, step: StackStep) -> dict[str, Any]:
        """Perform one step; returns facts worth reporting."""
        if step.action in ("kill", "stop"):
            assert step.component is not None
            with self.lock:
                self.stack.kill(step.component, signal.SIGKILL if step.action == "kill" else signal.SIGTERM)
            return {}
        if step.action == "restart":
            assert step.component is not None
            with self.lock:
                self.stack.restart(step.component)
            return {}
        if step.action == "fail_receiver":
            return {"receiver_failure": self.receiver.fail(step.status, step.seconds)}
        if step.action == "reset_token_budget":
            assert step.component is not None
            admin = self.backends[step.component]
            # The client has no call for it; its HTTP client carries the admin token.
            resp = admin.http.post("/admin/token-budget/reset")
            if not resp.is_success:
                where = f"POST /admin/token-budget/reset on {step.component}"
                raise RuntimeError(f"{where}: {resp.status_code} {resp.text[:200]}")
            return {"token_budget_reset": resp.json() if resp.content else {}}
        assert step.group is not None
        path = _rule_file(self.stack.run_dir, str(step.group["name"]))
        path.write_text(yaml.safe_dump({"groups": [step.group]}, sort_keys=False))
        self.prometheus.reload()
        return {"rule_file": str(path)}

    def undo(self, step: StackStep) -> dict[str, Any]:
        """Revert one step (safe to call when it was never done or already undone)."""
        if step.action in ("kill", "stop"):
            assert step.component is not None
            with self.lock:
                alive = step.component in self.stack_processes() and self._alive(step.component)
                if not alive:
                    self.stack.start_component(step.component)
            return {}
        if step.action == "fail_receiver":
            return {"receiver_failure": self.receiver.recover()}
        if step.action == "load_rules":
            assert step.group is not None
            path = _rule_file(self.stack.run_dir, str(step.group["name"]))
            if path.exists():
                path.unlink()
                self.prometheus.reload()
        return {}

    def stack_processes(self) -> dict[str, Any]:
        procs: dict[str, Any] = getattr(self.stack, "processes", {})
        return procs

    def _alive(self, name: str) -> bool:
        ref = self.stack_processes().get(name)
        return bool(ref is not None and ref.alive())
