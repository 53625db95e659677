"""The load generator's own metrics (scraped as job ``loadgen``).

Usage::

    m = LoadgenMetrics(CollectorRegistry())
    m.runs.labels(target="127.0.0.1:8001", mode="steady", outcome="finished").inc()
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["MODES", "LoadgenMetrics"]

# "steady" plus the traffic modes of the fault catalog.
MODES = ("steady", "auth_failure_spike", "guardrail_attack", "forbidden_admin_tool")


class LoadgenMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.runs = Counter(
            "loadgen_runs",
            "Agent runs sent, by target instance, traffic mode and outcome.",
            ["target", "mode", "outcome"],
            registry=registry,
        )
        self.duration = Histogram(
            "loadgen_run_duration_seconds",
            "Client-side duration of a run, until the SSE stream ended.",
            ["target", "mode"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
            registry=registry,
        )
        self.mode_active = Gauge(
            "loadgen_mode_active",
            "1 while the target's fault API says the traffic mode is on.",
            ["target", "mode"],
            registry=registry,
        )
        self.in_flight = Gauge(
            "loadgen_runs_in_flight",
            "Runs currently in flight, by traffic mode.",
            ["mode"],
            registry=registry,
        )
        self.dropped = Counter(
            "loadgen_runs_dropped",
            "Runs not started because the in-flight cap was reached, by traffic mode.",
            ["mode"],
            registry=registry,
        )
        self.conversations = Counter(
            "loadgen_conversations_started",
            "Steady conversations (chat threads) started, by target instance.",
            ["target"],
            registry=registry,
        )
        self.poll_errors = Counter(
            "loadgen_fault_poll_errors",
            "Failed polls of a target's GET /admin/faults, by reason.",
            ["target", "reason"],
            registry=registry,
        )
