"""Tier selection: e2e tests need the Debian binaries, compose tests need a Docker engine.

The binaries are looked up in ``.tools/bin`` (compose.yaml's versions, fetched by
``scripts/fetch-tools.sh``) before ``PATH``, for every test and every process a test starts.

When a tier cannot run here its tests are skipped with the reason printed in the
summary (``-ra``), never silently. The figures the e2e tier measures are printed in the
summary too; under pytest-xdist (the e2e tier's two lanes, ``tests/e2e/conftest.py``) these
hooks run in the controller, which loads no conftest below this one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

import pytest

from stack.tools import FETCH_HINT, search_path
from tests.support.figures import FIGURES

os.environ["PATH"] = search_path()

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
        f"native stack unavailable: {', '.join(missing)} not found; {FETCH_HINT}" if missing else None
    )
    rules_missing = missing_binaries(("promtool", "amtool"))
    rules_reason = f"{', '.join(rules_missing)} not found; {FETCH_HINT}" if rules_missing else None
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


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    # xdist marks a grouped test by an "@group" suffix of its node id. A pytest / pytest-xdist
    # pair that loses it distributes the tests one by one, and each worker would start both stacks.
    ungrouped = [i for i in ids if i.startswith("tests/e2e/") and "@" not in i]
    if ungrouped and node.config.getoption("dist") == "loadgroup":
        pytest.exit(
            f"--dist loadgroup did not group the e2e lanes (e.g. {ungrouped[0]}): "
            "this pytest / pytest-xdist pair does not honour xdist_group; see pyproject.toml",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )


def pytest_sessionfinish(session: pytest.Session) -> None:
    # An xdist worker hands its figures to the controller, which prints them.
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["stack_figures"] = json.dumps(FIGURES)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    FIGURES.update(json.loads(getattr(node, "workeroutput", {}).get("stack_figures", "{}")))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES:
        terminalreporter.section("stack figures")
        for name, value in FIGURES.items():
            terminalreporter.write_line(f"{name}: {value:.2f}")
