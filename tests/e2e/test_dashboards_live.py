"""On the busy e2e stack (drill mode, under load), every dashboard PromQL expression returns
data: no panel of the seven dashboards would show "No data" on a healthy, busy backend.
Drill-mode scrapes are 1 s apart and the recording-rule windows compressed, so a few seconds
of traffic are enough."""

from __future__ import annotations

import time

import pytest

from stack.native.stack import NativeStack
from tests.dashboards._queries import all_queries, substitute

pytestmark = pytest.mark.e2e

# Drill-mode scrapes are 1 s apart, so a 10 s window holds ten samples per rate().
LIVE_SUBSTITUTIONS = {"1m": "10s"}
DEADLINE_SECONDS = 120.0


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
