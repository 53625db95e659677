"""A2A Communication (strategy section 3d): delegation rate, latency and errors per agent.

Filtered by ``$instance`` and ``$agent``; series link to the ``invoke_agent`` spans and
the ``A2A_DELEGATION`` audit records of that agent.
"""

from __future__ import annotations

from grafana_foundation_sdk.models.dashboard import Dashboard

from ._board import BACKEND, PanelBuilder, agent_variable, board, instance_variable
from ._panels import logs, logs_link, prom, timeseries, traces_link

__all__ = ["build"]

_SEL = BACKEND + ', agent=~"$agent"'
_SENT = f"rate(agent_a2a_delegations_total{{{_SEL}}}[$__rate_interval])"
_FAILED = f'rate(agent_a2a_delegations_total{{{_SEL}, status!="OK"}}[$__rate_interval])'
_BUCKETS = f"rate(agent_a2a_delegation_duration_seconds_bucket{{{_SEL}}}[$__rate_interval])"

_AGENT_TRACES = traces_link(
    "Traces of ${__field.labels.agent}", '{span.gen_ai.agent.name="${__field.labels.agent}"}'
)
_AGENT_FAILED_TRACES = traces_link(
    "Failed delegations to ${__field.labels.agent} (traces)",
    '{span.gen_ai.agent.name="${__field.labels.agent}" && status=error}',
)
_AGENT_AUDIT = logs_link(
    "Audit records of ${__field.labels.agent}",
    '{logger="audit", instance=~"$instance"} | json | event="A2A_DELEGATION"'
    ' | agent="${__field.labels.agent}"',
)


def _panels() -> list[PanelBuilder]:
    return [
        timeseries(
            "Delegation rate per agent",
            "A2A message/send calls per second, by target agent.",
            [prom(f"sum by (agent) ({_SENT})", "{{agent}}")],
            unit="ops",
            links=[_AGENT_TRACES, _AGENT_AUDIT],
        ),
        timeseries(
            "Error ratio per agent",
            "Share of delegations that failed (ERROR_NETWORK: peer unreachable; "
            "ERROR_HTTP: peer answered an error).",
            [
                # `or ... * 0` gives a 0 line for agents that have not failed yet.
                prom(
                    f"(sum by (agent) ({_FAILED}) or sum by (agent) ({_SENT}) * 0)"
                    f" / sum by (agent) ({_SENT})",
                    "{{agent}}",
                )
            ],
            unit="percentunit",
            steps=((None, "green"), (0.1, "orange")),
            links=[_AGENT_FAILED_TRACES, _AGENT_AUDIT],
        ),
        timeseries(
            "Delegation latency p50 / p95 / p99",
            "Duration of message/send per target agent; dots are exemplars linking to traces.",
            [
                prom(
                    f"histogram_quantile(0.50, sum by (le, agent) ({_BUCKETS}))",
                    "p50 {{agent}}",
                    exemplar=True,
                ),
                prom(
                    f"histogram_quantile(0.95, sum by (le, agent) ({_BUCKETS}))",
                    "p95 {{agent}}",
                    "B",
                    exemplar=True,
                ),
                prom(
                    f"histogram_quantile(0.99, sum by (le, agent) ({_BUCKETS}))",
                    "p99 {{agent}}",
                    "C",
                    exemplar=True,
                ),
            ],
            unit="s",
            steps=((None, "green"), (2, "orange")),
            links=[_AGENT_TRACES],
        ),
        timeseries(
            "Delegations by agent and status",
            "OK, ERROR_NETWORK and ERROR_HTTP outcomes per target agent.",
            [prom(f"sum by (agent, status) ({_SENT})", "{{agent}} {{status}}")],
            unit="ops",
            links=[_AGENT_FAILED_TRACES, _AGENT_AUDIT],
        ),
        logs(
            "Failed delegations (audit log)",
            "A2A_DELEGATION records whose status is not OK; trace_id opens the trace.",
            '{logger="audit", instance=~"$instance"} | json | event="A2A_DELEGATION" | status!="OK"',
            height=8,
        ),
    ]


def build() -> Dashboard:
    return board(
        "a2a-communication",
        "A2A Communication",
        "Delegations from the agent to its peer agents over A2A JSON-RPC: rate, latency, errors.",
        [instance_variable(), agent_variable()],
        [("Delegations", _panels())],
    )
