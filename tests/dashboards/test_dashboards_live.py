"""Against the native stack under load, every dashboard PromQL expression returns data:
no panel of the seven dashboards would show "No data" on a healthy, busy backend.

Runs the native stack in drill mode (1 s scrapes, compressed recording-rule windows) on
free ports, so it needs no more than a minute of traffic and can run beside a stack
started by hand.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stack.native.settings import StackSettings
from stack.native.stack import NativeStack
from tests.dashboards._queries import all_queries, substitute
from tests.support.servers import free_port

pytestmark = pytest.mark.e2e

# Drill-mode scrapes are 1 s apart, so a 10 s window holds ten samples per rate().
LIVE_SUBSTITUTIONS = {"1m": "10s"}
DEADLINE_SECONDS = 120.0


@pytest.fixture(scope="module")
def native_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NativeStack]:
    run_dir: Path = tmp_path_factory.mktemp("dashboards-stack")
    # Free ports, never the defaults, so a stack started by hand can keep running.
    settings = StackSettings(
        run_dir=run_dir,
        drill=True,
        prometheus_port=free_port(),
        alertmanager_port=free_port(),
        blackbox_port=free_port(),
        backend_1_port=free_port(),
        backend_2_port=free_port(),
        upstreams_port=free_port(),
        loadgen_port=free_port(),
        receiver_port=free_port(),
    )
    with NativeStack(settings) as stack:
        yield stack


def _live(expr: str) -> str:
    expr = substitute(expr)
    for old, new in LIVE_SUBSTITUTIONS.items():
        expr = expr.replace(f"[{old}]", f"[{new}]")
    return expr


def test_every_dashboard_promql_expression_returns_data(native_stack: NativeStack) -> None:
    pending = {(q.dashboard, q.panel, q.expr) for q in all_queries("prometheus")}
    assert pending
    deadline = time.monotonic() + DEADLINE_SECONDS
    with native_stack.prometheus() as prometheus:
        while pending and time.monotonic() < deadline:
            pending = {(d, p, e) for d, p, e in pending if not prometheus.query(_live(e))}
            if pending:
                time.sleep(2)  # the next scrape and rule evaluation bring new samples
    assert not pending, "panels without data:\n" + "\n".join(
        f"  {d} / {p}: {e}" for d, p, e in sorted(pending)
    )
