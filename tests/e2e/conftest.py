"""Two native stacks in drill mode on free ports, one per lane of the e2e tier.

- The busy stack (``native_stack`` and its clients): the load generator runs. The healthy
  baseline and every drill that needs traffic run here, and nothing restarts, kills or reloads
  any of its components, so baseline windows and drills see a stack nobody has touched.
- The quiet stack (``quiet_stack`` and its ``quiet_*`` clients): no load. Drills of state
  (``traffic: false``: a process, a probe, the stack itself), the silence, and every test that
  restarts, kills or reloads a component run here, along with the tests that start stacks of
  their own.

A test's lane follows from its fixtures: a test that uses the busy stack is in the busy lane,
every other e2e test in the quiet one. Under pytest-xdist (``-n 2 --dist loadgroup``, as
``make test`` runs the tier) each lane is one xdist group, so the lanes run side by side in
two workers; without xdist they run one after the other. Within the quiet lane, tests that
start stacks of their own come first, tests that disturb the quiet stack (marker
``disturbs_stack``) last.

Fixtures (session-scoped; a stack starts on first use and stops at the end):

- ``native_stack`` / ``quiet_stack``: :class:`~stack.native.NativeStack`
  (``restart("alertmanager")``, ``kill("backend-1")``, ``start_component("backend-1")``, ...);
  the quiet one starts as on a machine too slow to have anything healthy before Prometheus'
  first scrape, and ``QUIET_START_UP`` holds what that start-up left behind
- ``prometheus_client``, ``alertmanager_client``, ``receiver_client``, ``backend_admins``
  (``{"backend-1": BackendAdmin, "backend-2": BackendAdmin}``) and their ``quiet_`` twins
- ``drill_suite`` / ``quiet_drill_suite``: the lane's drills, run once (:mod:`tests.e2e.suites`)

Under xdist the quiet lane starts its first test once the busy stack's processes are healthy
(or its start has failed): two stacks starting at once on two cores took half again as long
each, so the busy one deferred Prometheus, and its start-up is a figure of the tier.

Figures measured by either lane (:func:`tests.support.figures.record_figure`) are printed in the
summary.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

import stack.native.stack as native_module
from stack.clients import AlertmanagerClient, BackendAdmin, PrometheusClient, ReceiverClient
from stack.drills import SuiteResult
from stack.drills.profile import DRILL_SUITE_FACTOR
from stack.native import NativeStack, StackSettings
from stack.native.settings import free_ports
from tests.support.figures import record_figure

BUSY, QUIET = "busy", "quiet"
# What the quiet stack's (deliberately slow) start-up left behind; see the quiet_stack fixture.
QUIET_START_UP: dict[str, Any] = {}


# Written by the busy lane once its stack's processes are healthy (or its start has failed);
# shared by both xdist workers. The quiet lane waits for it once, at its first test.
BUSY_STARTED = "busy-stack-started"
BUSY_START_WAIT_SECONDS = 60.0
_WAITED = pytest.StashKey[bool]()


def free_stack_settings(run_dir: Path, **overrides: Any) -> StackSettings:
    return StackSettings(run_dir=run_dir, **{**free_ports(), **overrides})


def _touch_once_started(stack: NativeStack, marker: Path, done: threading.Event) -> None:
    # Started: every process but Prometheus answers its health check. What is left of the start
    # is Prometheus' discovery tick and first scrapes, which take little CPU.
    while not done.wait(0.05):
        others = [name for name in stack.components if name != "prometheus"]
        if others and all(f"{name} healthy" in stack.timings for name in others):
            break
    marker.touch()


def _start(
    tmp_path_factory: pytest.TempPathFactory,
    lane: str,
    load: bool,
    slow_start: bool = False,
    started_marker: Path | None = None,
) -> Generator[NativeStack, None, None]:
    # The factor is the one `python -m stack drill` uses when it starts a stack, so the tier drills
    # as the CLI does; drill mode brings its own load (stack.native.settings.DRILL_ENV).
    settings = free_stack_settings(
        tmp_path_factory.mktemp(f"{lane}-stack"), drill=True, factor=DRILL_SUITE_FACTOR, loadgen=load
    )
    stack = NativeStack(settings)
    done = threading.Event()
    if started_marker is not None:
        watcher = threading.Thread(target=_touch_once_started, args=(stack, started_marker, done))
        watcher.start()
    with pytest.MonkeyPatch.context() as patch:
        if slow_start:
            # As if the machine were so slow that nothing else is healthy before Prometheus' first
            # scrape: the runner must defer Prometheus until everything else is.
            patch.setattr(native_module, "FIRST_DISCOVERY_SECONDS", 0.5)
        try:
            stack.start()  # stops what it started when it fails
        finally:
            done.set()
    try:
        assert stack.ready_seconds is not None
        record_figure(f"{lane} stack up to ready (drill mode), s", stack.ready_seconds)
        for milestone, seconds in stack.timings.items():
            record_figure(f"  {lane}: {milestone}, s", seconds)
        yield stack
    finally:
        stack.stop()


def _shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Under xdist each worker's base temp is a directory of the controller's.
    return tmp_path_factory.getbasetemp().parent


@pytest.fixture(scope="session")
def native_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NativeStack]:
    marker = _shared_dir(tmp_path_factory) / BUSY_STARTED
    yield from _start(tmp_path_factory, BUSY, load=True, started_marker=marker)


@pytest.fixture(autouse=True)
def _quiet_lane_starts_after_busy_stack(request: pytest.FixtureRequest) -> None:
    """Hold the quiet lane's first test until the busy worker's stack has started its processes."""
    config = request.config
    if getattr(config, "workerinput", None) is None or lane(request.node) != QUIET:
        return
    if config.stash.get(_WAITED, False):
        return
    config.stash[_WAITED] = True
    if not any(lane(item) == BUSY for item in request.session.items):
        return
    marker = _shared_dir(request.getfixturevalue("tmp_path_factory")) / BUSY_STARTED
    deadline = time.monotonic() + BUSY_START_WAIT_SECONDS
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.fixture(scope="session")
def quiet_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NativeStack]:
    # Also the slow start-up case (test_native_stack.test_slow_start_up_defers_prometheus_...):
    # a stack of its own for it would cost the quiet lane a whole start and stop.
    stacks = _start(tmp_path_factory, QUIET, load=False, slow_start=True)
    stack = next(stacks)
    with stack.prometheus() as prom:
        # What the start-up left behind, before any test or drill touches the stack.
        prom.wait_alert("Watchdog", "firing", timeout=10)
        QUIET_START_UP.update(
            deferred="prometheus deferred (slow start-up)" in stack.timings,
            alerts=sorted({a["labels"]["alertname"] for a in prom.alerts()}),
            backend_down_for_state=prom.query("ALERTS_FOR_STATE{alertname='BackendDown'}"),
        )
    yield stack
    stacks.close()


def _admins(stack: NativeStack) -> Iterator[dict[str, BackendAdmin]]:
    admins = {name: stack.backend(name) for name in ("backend-1", "backend-2")}
    yield admins
    for admin in admins.values():
        admin.close()


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


@pytest.fixture(scope="session")
def backend_admins(native_stack: NativeStack) -> Iterator[dict[str, BackendAdmin]]:
    yield from _admins(native_stack)


@pytest.fixture(scope="session")
def quiet_prometheus(quiet_stack: NativeStack) -> Iterator[PrometheusClient]:
    with quiet_stack.prometheus() as client:
        yield client


@pytest.fixture(scope="session")
def quiet_alertmanager(quiet_stack: NativeStack) -> Iterator[AlertmanagerClient]:
    with quiet_stack.alertmanager() as client:
        yield client


@pytest.fixture(scope="session")
def quiet_receiver(quiet_stack: NativeStack) -> Iterator[ReceiverClient]:
    with quiet_stack.receiver() as client:
        yield client


@pytest.fixture(scope="session")
def quiet_admins(quiet_stack: NativeStack) -> Iterator[dict[str, BackendAdmin]]:
    yield from _admins(quiet_stack)


@pytest.fixture(scope="session")
def drill_suite(native_stack: NativeStack) -> SuiteResult:
    from tests.e2e.suites import drill_suite_for

    return drill_suite_for(native_stack, BUSY)


@pytest.fixture(scope="session")
def quiet_drill_suite(quiet_stack: NativeStack) -> SuiteResult:
    from tests.e2e.suites import drill_suite_for

    return drill_suite_for(quiet_stack, QUIET)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "disturbs_stack: restarts, kills or reloads part of the quiet stack; last in its lane."
    )
    # Registered by pytest-xdist too; declared here so that a run without it keeps --strict-markers.
    config.addinivalue_line("markers", "xdist_group(name): the e2e lane (xdist group) the test runs in.")


def lane(item: pytest.Item) -> str:
    return BUSY if "native_stack" in getattr(item, "fixturenames", ()) else QUIET


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A stable order: the busy lane, then the quiet lane's own-stack tests, its calm tests and its
    # disturbing tests. Each e2e test joins its lane's xdist group; first, because xdist's own hook
    # reads the group marks to choose the worker.
    def rank(item: pytest.Item) -> int:
        if item.get_closest_marker("e2e") is None:
            return 0
        if lane(item) == BUSY:
            return 1
        if "quiet_stack" not in getattr(item, "fixturenames", ()):
            return 2
        return 4 if item.get_closest_marker("disturbs_stack") else 3

    for item in items:
        if item.get_closest_marker("e2e") is not None:
            item.add_marker(pytest.mark.xdist_group(lane(item)))
    items.sort(key=rank)
