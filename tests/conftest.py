"""Tier selection: e2e tests need the Debian binaries, compose tests need a Docker engine.

When a tier cannot run here its tests are skipped with the reason printed in the
summary (``-ra``), never silently.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

NATIVE_BINARIES = (
    "prometheus",
    "promtool",
    "prometheus-alertmanager",
    "amtool",
    "prometheus-blackbox-exporter",
)


def missing_binaries(names: tuple[str, ...] = NATIVE_BINARIES) -> list[str]:
    return [n for n in names if shutil.which(n) is None]


def docker_engine_reason() -> str | None:
    """None when a Docker engine answers, else why the compose tier cannot run."""
    if shutil.which("docker") is None:
        return "no docker client on PATH"
    try:
        subprocess.run(["docker", "info"], capture_output=True, check=True, timeout=10)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        return f"no Docker engine answers `docker info` ({type(exc).__name__})"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = missing_binaries()
    native_reason = (
        f"native stack unavailable: {', '.join(missing)} not found; "
        "install Debian packages prometheus prometheus-alertmanager prometheus-blackbox-exporter"
        if missing
        else None
    )
    rules_missing = missing_binaries(("promtool", "amtool"))
    rules_reason = (
        f"{', '.join(rules_missing)} not found; install Debian packages prometheus prometheus-alertmanager"
        if rules_missing
        else None
    )
    compose_reason: str | None = None
    compose_checked = False
    for item in items:
        if item.get_closest_marker("e2e") and native_reason:
            item.add_marker(pytest.mark.skip(reason=native_reason))
        if item.get_closest_marker("rules") and rules_reason:
            item.add_marker(pytest.mark.skip(reason=rules_reason))
        if item.get_closest_marker("compose"):
            if not compose_checked:
                compose_reason, compose_checked = docker_engine_reason(), True
            if compose_reason:
                item.add_marker(
                    pytest.mark.skip(reason=f"compose tier needs a Docker engine: {compose_reason}")
                )
