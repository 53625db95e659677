"""One native stack, in drill mode on free ports, for the whole e2e tier.

Fixtures (all session-scoped; the stack starts on first use and stops at the end):

- ``native_stack``: the :class:`~stack.native.NativeStack` (``restart("alertmanager")``,
  ``kill("backend-1")``, ``start_component("backend-1")``, ``settings``, ``urls``)
- ``stack_handle``: :class:`StackHandle`, the stack plus one client of each API
- ``prometheus_client``, ``alertmanager_client``, ``receiver_client``,
  ``backend_admins`` (``{"backend-1": BackendAdmin, "backend-2": BackendAdmin}``)
- ``clean_receiver`` (per test): ``receiver_client`` with its deliveries reset and its
  failure mode off

Free ports (not the defaults) let the tier run next to a stack a developer has up.

Tests that disturb the shared stack (restart or kill a component, reload Prometheus) carry
the ``disturbs_stack`` marker and run after every other e2e test, so baseline windows and
drills see a stack nobody has touched. Tests that start stacks of their own run first, before
the session stack and its load exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stack.clients import AlertmanagerClient, BackendAdmin, PrometheusClient, ReceiverClient
from stack.drills.profile import DRILL_SUITE_FACTOR
from stack.native import NativeStack, StackSettings
from stack.native.settings import free_ports

_figures: dict[str, float] = {}


def free_stack_settings(run_dir: Path, **overrides: Any) -> StackSettings:
    return StackSettings(run_dir=run_dir, **{**free_ports(), **overrides})


@dataclass
class StackHandle:
    stack: NativeStack
    prometheus: PrometheusClient
    alertmanager: AlertmanagerClient
    receiver: ReceiverClient
    backends: dict[str, BackendAdmin]


@pytest.fixture(scope="session")
def native_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NativeStack]:
    # Drill mode brings its own load (stack.native.settings.DRILL_ENV); the factor is the one
    # `python -m stack drill` uses when it starts a stack, so the tier drills as the CLI does.
    settings = free_stack_settings(
        tmp_path_factory.mktemp("native-stack"), drill=True, factor=DRILL_SUITE_FACTOR
    )
    with NativeStack(settings) as stack:
        assert stack.ready_seconds is not None
        _figures["native stack up to ready (drill mode), s"] = stack.ready_seconds
        for milestone, seconds in stack.timings.items():
            _figures[f"  {milestone}, s"] = seconds
        yield stack


@pytest.fixture(scope="session")
def prometheus_client(native_stack: NativeStack) -> Iterator[PrometheusClient]:
    with native_stack.prometheus() as client:
        yield client


@pytest.fixture(scope="session")
def alertmanager_client(native_stack: NativeStack) -> Iterator[AlertmanagerClient]:
    with native_stack.alertmanager() as client:
        yield client


@pytest.fixture(scope="session")
def receiver_client(native_stack: NativeStack) -> Iterator[ReceiverClient]:
    with native_stack.receiver() as client:
        yield client


@pytest.fixture
def clean_receiver(receiver_client: ReceiverClient) -> ReceiverClient:
    receiver_client.recover()
    receiver_client.reset()
    return receiver_client


@pytest.fixture(scope="session")
def backend_admins(native_stack: NativeStack) -> Iterator[dict[str, BackendAdmin]]:
    admins = {name: native_stack.backend(name) for name in ("backend-1", "backend-2")}
    yield admins
    for admin in admins.values():
        admin.close()


@pytest.fixture(scope="session")
def stack_handle(
    native_stack: NativeStack,
    prometheus_client: PrometheusClient,
    alertmanager_client: AlertmanagerClient,
    receiver_client: ReceiverClient,
    backend_admins: dict[str, BackendAdmin],
) -> StackHandle:
    return StackHandle(native_stack, prometheus_client, alertmanager_client, receiver_client, backend_admins)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "disturbs_stack: restarts, kills or reloads part of the shared stack; runs last."
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A stable partition: e2e tests that start stacks of their own run before the session stack
    # exists (its load would slow their start-up on a two-core machine), everything else keeps
    # its order, the disturbing tests go last.
    def standalone(item: pytest.Item) -> bool:
        uses_session_stack = "native_stack" in getattr(item, "fixturenames", ())
        return item.get_closest_marker("e2e") is not None and not uses_session_stack

    first = [i for i in items if standalone(i)]
    rest = [i for i in items if not standalone(i)]
    calm = [i for i in rest if i.get_closest_marker("disturbs_stack") is None]
    disturbing = [i for i in rest if i.get_closest_marker("disturbs_stack") is not None]
    items[:] = first + calm + disturbing


def record_figure(name: str, value: float) -> None:
    """Report a measured figure in the pytest summary."""
    _figures[name] = value


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _figures:
        terminalreporter.section("stack figures")
        for name, value in _figures.items():
            terminalreporter.write_line(f"{name}: {value:.2f}")
