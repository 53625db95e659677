"""Settings of the native stack (environment prefix ``STACK_``; CLI flags override them)."""

from __future__ import annotations

import socket
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DRILL_ENV", "PORT_FIELDS", "REPO_ROOT", "StackSettings", "free_ports"]

REPO_ROOT = Path(__file__).resolve().parents[2]

# What drill mode gives the processes it starts, by component, on top of their usual settings; a
# variable of the same name already in the environment wins. At the default 6 runs/s, a 5m window
# compressed to a few seconds often holds no call of a given tool or peer agent (0.36-0.6 calls/s
# per instance), so per-tool and per-agent ratios lose their value and restart their `for`.
DRILL_ENV: dict[str, dict[str, str]] = {
    "loadgen": {
        # Steady runs/s over both instances: at least 0.7 calls/s of each tool and peer per instance.
        "LOADGEN_RATE": "12",
        # Room for every run of the slowest latency drill in flight (12 runs/s x 6 s slower + the
        # run itself is ~90): a dropped run would thin the very histogram the drill watches.
        "LOADGEN_MAX_IN_FLIGHT": "128",
        # Attack modes are switched through the backends' fault API, which the load generator
        # polls: at the default 0.5 s the attack may start half a second after the drill asks for
        # it, half of a compressed `for`.
        "LOADGEN_POLL_INTERVAL_SECONDS": "0.2",
    },
    **{
        backend: {
            # The CPU limit when no cgroup quota sets one (the native case). A process of a two-core
            # machine shared with the whole stack is not reliably given 90 % of one core, so the CPU
            # drill could not saturate a one-core limit; healthy load stays well under 80 % of 0.7.
            "BACKEND_CPU_LIMIT_CORES": "0.7",
        }
        for backend in ("backend-1", "backend-2")
    },
}


class StackSettings(BaseSettings):
    """Ports, run directory and drill mode of ``python -m stack up``.

    ``StackSettings(run_dir=Path("/tmp/run"), drill=True, prometheus_port=19090)``
    """

    model_config = SettingsConfigDict(env_prefix="STACK_", extra="ignore")

    run_dir: Path = Path(".stack")
    provisioning_dir: Path = REPO_ROOT / "provisioning"
    # Drill mode: 1 s scrape/evaluation intervals and every rule timer divided by `factor`.
    drill: bool = False
    # 60 turns a 5m `for` into 5s: long enough for four 1 s scrapes, short enough for CI.
    factor: float = Field(default=60.0, gt=0)
    drill_interval_seconds: int = Field(default=1, ge=1)

    prometheus_port: int = Field(default=9090, ge=1, le=65535)
    alertmanager_port: int = Field(default=9093, ge=1, le=65535)
    blackbox_port: int = Field(default=9115, ge=1, le=65535)
    backend_1_port: int = Field(default=8001, ge=1, le=65535)
    backend_2_port: int = Field(default=8002, ge=1, le=65535)
    upstreams_port: int = Field(default=8100, ge=1, le=65535)
    loadgen_port: int = Field(default=8200, ge=1, le=65535)
    receiver_port: int = Field(default=8300, ge=1, le=65535)

    # The development token from .env; the backends' fault API is off without one.
    admin_token: str = "dev-admin-token"
    # Generous: the backends import OpenTelemetry and FastAPI; Prometheus needs ~5 s to scrape.
    ready_timeout_seconds: float = Field(default=60.0, gt=0)
    stop_grace_seconds: float = Field(default=5.0, ge=0)
    # Start the load generator (drills need steady traffic for rate-based alerts).
    loadgen: bool = True

    def ports(self) -> dict[str, int]:
        """Component name -> port, in start order."""
        return {
            "receiver": self.receiver_port,
            "upstreams": self.upstreams_port,
            "backend-1": self.backend_1_port,
            "backend-2": self.backend_2_port,
            "blackbox": self.blackbox_port,
            "alertmanager": self.alertmanager_port,
            "prometheus": self.prometheus_port,
            **({"loadgen": self.loadgen_port} if self.loadgen else {}),
        }


# The port fields of StackSettings, one per component.
PORT_FIELDS: tuple[str, ...] = tuple(name for name in StackSettings.model_fields if name.endswith("_port"))


def free_ports() -> dict[str, int]:
    """One distinct free 127.0.0.1 port per component, keyed by ``StackSettings`` field name, for a
    stack that must not clash with one already running on the default ports (tests, benchmarks)."""
    ports: set[int] = set()
    while len(ports) < len(PORT_FIELDS):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            ports.add(int(sock.getsockname()[1]))
    return dict(zip(PORT_FIELDS, sorted(ports), strict=True))
