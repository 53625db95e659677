"""What the native stack runs: one :class:`Component` per process, with its command line,
environment, port and health URL, built from :class:`StackSettings`."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stack.native.render import Rendered, prometheus_drill_flags
from stack.native.settings import DRILL_ENV, StackSettings
from stack.tools import FETCH_HINT, version_problems, which

__all__ = ["BINARIES", "FETCH_HINT", "Component", "binary_problems", "build_components", "drill_env"]

# Debian's command names; stack.tools finds them in .tools/bin first (compose.yaml's versions).
BINARIES = {
    "prometheus": "prometheus",
    "alertmanager": "prometheus-alertmanager",
    "blackbox": "prometheus-blackbox-exporter",
}


@dataclass(frozen=True)
class Component:
    """One process of the stack. ``env`` holds only what the stack sets on top of its own
    environment."""

    name: str
    port: int
    argv: list[str]
    health_path: str
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def health_url(self) -> str:
        return self.url + self.health_path

    def log_path(self, run_dir: Path) -> Path:
        return run_dir / "logs" / f"{self.name}.log"

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "port": self.port,
            "argv": self.argv,
            "env": self.env,
            "health": self.health_path,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Component:
        return cls(data["name"], data["port"], list(data["argv"]), data["health"], dict(data["env"]))


def binary_problems(binaries: dict[str, str] | None = None) -> list[str]:
    """Each binary that is missing or not of the pinned major.minor, in a sentence."""
    return version_problems(list((binaries or BINARIES).values()))


def _python_module_exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _instrumented_python() -> list[str]:
    """``opentelemetry-instrument python`` from this venv; plain python if it is missing."""
    instrument = Path(sys.executable).with_name("opentelemetry-instrument")
    return [str(instrument), sys.executable] if instrument.exists() else [sys.executable]


def loadgen_available() -> bool:
    return _python_module_exists("sample_backend.loadgen.__main__")


def drill_env(name: str, settings: StackSettings) -> dict[str, str]:
    """What drill mode adds to component ``name``'s environment (nothing in normal mode);
    a variable already set in this process's environment is left to it."""
    if not settings.drill:
        return {}
    return {k: v for k, v in DRILL_ENV.get(name, {}).items() if k not in os.environ}


def build_components(
    settings: StackSettings, rendered: Rendered, binaries: dict[str, str] | None = None
) -> list[Component]:
    """Every component in start order (dependencies first, Prometheus last but one so its
    fixed ~5 s discovery delay overlaps the Python processes' start-up)."""
    # Absolute paths, so a restart runs the same binary whatever PATH is then.
    binaries = {name: which(command) or command for name, command in (binaries or BINARIES).items()}
    run = settings.run_dir.resolve()
    py = sys.executable
    upstreams = f"http://127.0.0.1:{settings.upstreams_port}"
    backend_urls = [
        f"http://127.0.0.1:{settings.backend_1_port}",
        f"http://127.0.0.1:{settings.backend_2_port}",
    ]

    prometheus_args = [
        binaries["prometheus"],
        f"--config.file={rendered.prometheus_config.resolve()}",
        f"--storage.tsdb.path={run / 'prometheus' / 'data'}",
        f"--web.listen-address=127.0.0.1:{settings.prometheus_port}",
        f"--web.external-url=http://127.0.0.1:{settings.prometheus_port}",
        # Lifecycle: drills and tests reload rules over HTTP; exemplars link latency to traces.
        "--web.enable-lifecycle",
        "--enable-feature=exemplar-storage",
    ]
    if settings.drill:
        # Alert re-sends, restart grace and outage tolerance scale with the rules, so that
        # "Alertmanager restarted while an alert fires" recovers in seconds, as it would in minutes.
        prometheus_args += [
            f"{flag}={value}" for flag, value in prometheus_drill_flags(settings.factor).items()
        ]

    def backend(name: str, port: int) -> Component:
        agents = {
            "research-agent": f"{upstreams}/a2a/research-agent",
            "billing-agent": f"{upstreams}/a2a/billing-agent",
        }
        env = {
            "BACKEND_HOST": "127.0.0.1",
            "BACKEND_PORT": str(port),
            "BACKEND_INSTANCE_NAME": name,
            "BACKEND_LLM_BASE_URL": f"{upstreams}/v1",
            "BACKEND_TOOLS_BASE_URL": f"{upstreams}/tools",
            "BACKEND_A2A_AGENTS": json.dumps(agents),
            "BACKEND_ADMIN_TOKEN": settings.admin_token,
            # Auto-instrumentation runs for its spans' context in logs and exemplars; no
            # collector runs natively, so nothing is exported.
            "OTEL_SERVICE_NAME": "sample-backend",
            "OTEL_RESOURCE_ATTRIBUTES": f"service.instance.id={name}",
            "OTEL_TRACES_EXPORTER": "none",
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
            **drill_env(name, settings),
        }
        return Component(name, port, [*_instrumented_python(), "-m", "sample_backend.app"], "/health", env)

    components = [
        Component(
            "receiver",
            settings.receiver_port,
            [py, "-m", "stack.receiver"],
            "/health",
            {
                "RECEIVER_HOST": "127.0.0.1",
                "RECEIVER_PORT": str(settings.receiver_port),
                "RECEIVER_DATA_DIR": str(run / "receiver"),
            },
        ),
        Component(
            "upstreams",
            settings.upstreams_port,
            [py, "-m", "sample_backend.upstreams"],
            "/health",
            {"UPSTREAMS_HOST": "127.0.0.1", "UPSTREAMS_PORT": str(settings.upstreams_port)},
        ),
        backend("backend-1", settings.backend_1_port),
        backend("backend-2", settings.backend_2_port),
        Component(
            "blackbox",
            settings.blackbox_port,
            [
                binaries["blackbox"],
                f"--config.file={rendered.blackbox_config.resolve()}",
                f"--web.listen-address=127.0.0.1:{settings.blackbox_port}",
            ],
            "/-/healthy",
        ),
        Component(
            "alertmanager",
            settings.alertmanager_port,
            [
                binaries["alertmanager"],
                f"--config.file={rendered.alertmanager_config.resolve()}",
                f"--storage.path={run / 'alertmanager' / 'data'}",
                f"--web.listen-address=127.0.0.1:{settings.alertmanager_port}",
                f"--web.external-url=http://127.0.0.1:{settings.alertmanager_port}",
                # Empty disables clustering: one instance, no gossip port to collide on.
                "--cluster.listen-address=",
            ],
            "/-/ready",
        ),
        Component("prometheus", settings.prometheus_port, prometheus_args, "/-/ready"),
    ]
    if settings.loadgen:
        components.append(
            Component(
                "loadgen",
                settings.loadgen_port,
                [py, "-m", "sample_backend.loadgen"],
                "/health",
                {
                    "LOADGEN_HOST": "127.0.0.1",
                    "LOADGEN_PORT": str(settings.loadgen_port),
                    "LOADGEN_TARGETS": ",".join(backend_urls),
                    "LOADGEN_ADMIN_TOKEN": settings.admin_token,
                    **drill_env("loadgen", settings),
                },
            )
        )
    return components
