"""Start and stop the stack's processes by PID, and check ports.

Processes start in their own session so they outlive ``python -m stack up`` and a
Ctrl-C at the terminal does not reach them; ``down`` stops them by PID. A PID is only
signalled when its start time matches the one recorded, so a recycled PID is never hit.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

__all__ = ["ProcessRef", "log_tail", "port_in_use", "spawn", "stop_process", "stop_processes"]


@dataclass(frozen=True)
class ProcessRef:
    """A process we started: its PID and start time (to tell it from a recycled PID)."""

    pid: int
    create_time: float

    @classmethod
    def of(cls, pid: int) -> ProcessRef:
        return cls(pid, psutil.Process(pid).create_time())

    def alive(self) -> bool:
        try:
            proc = psutil.Process(self.pid)
            same = abs(proc.create_time() - self.create_time) < 0.01
            return same and proc.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    def as_json(self) -> dict[str, Any]:
        return {"pid": self.pid, "create_time": self.create_time}


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something listens on (or holds) ``host:port``."""
    with socket.socket() as s:
        # SO_REUSEADDR: a socket of a just-stopped stack in TIME_WAIT is not "in use".
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def spawn(argv: list[str], env: dict[str, str], log_path: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """Start ``argv`` with stdout and stderr appended to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        log.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S%z')} starting: {' '.join(argv)}\n".encode())
        log.flush()
        return subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **env},
            cwd=cwd,
            start_new_session=True,
        )


def stop_process(ref: ProcessRef, grace: float, sig: int = signal.SIGTERM) -> bool:
    """Send ``sig``, wait up to ``grace`` seconds, then SIGKILL. True if it was running.
    An already-dead process (or a recycled PID) is not an error."""
    if not ref.alive():
        _reap(ref.pid)
        return False
    try:
        proc = psutil.Process(ref.pid)
        proc.send_signal(sig)
        try:
            proc.wait(grace)
        except psutil.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    except psutil.NoSuchProcess:
        pass
    _reap(ref.pid)
    return True


def stop_processes(refs: dict[str, ProcessRef], grace: float, first: str | None = None) -> list[str]:
    """Stop several processes at once: SIGTERM to all (``first`` a moment ahead of the
    rest), one shared grace period, then SIGKILL to what is left. Returns the names that
    were running."""
    procs: dict[str, psutil.Process] = {}
    for name in sorted(refs, key=lambda n: n != first):
        ref = refs[name]
        if not ref.alive():
            _reap(ref.pid)
            continue
        try:
            proc = psutil.Process(ref.pid)
            proc.terminate()
            procs[name] = proc
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(list(procs.values()), timeout=grace)
    for proc in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(alive, timeout=5)
    for ref in refs.values():
        _reap(ref.pid)
    return list(procs)


def _reap(pid: int) -> None:
    """Collect the exit status of our own child so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def log_tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])
