"""Overview: the high-level health of the backend (strategy section 3a).

KPIs of ``/ag-ui/events`` (rate, error ratio, p95 / p99, open SSE streams), the state of
the critical dependencies and the CPU / memory trend, each linking to the logs and
traces that explain a bad value.
"""

from __future__ import annotations

from grafana_foundation_sdk.models.dashboard import Dashboard

from ._board import AGUI, BACKEND, PanelBuilder, board, instance_variable
from ._panels import logs_link, prom, stat_panel, timeseries, traces_link

__all__ = ["build"]

_RATE = f"rate(http_server_request_duration_seconds_count{{{AGUI}}}[$__rate_interval])"
_RATE_5XX = (
    "rate(http_server_request_duration_seconds_count"
    f'{{{AGUI}, http_response_status_code=~"5.."}}[$__rate_interval])'
)
_RATE_AUTH = (
    "rate(http_server_request_duration_seconds_count"
    f'{{{AGUI}, http_response_status_code=~"401|403"}}[$__rate_interval])'
)
_BUCKETS = f"rate(http_server_request_duration_seconds_bucket{{{AGUI}}}[$__rate_interval])"

_ERROR_LOGS = logs_link(
    "Error logs of ${__field.labels.instance}",
    '{instance=~"${__field.labels.instance}", level=~"ERROR|CRITICAL"}',
)
_ERROR_TRACES = traces_link(
    "Failed runs (traces)", '{resource.service.name="sample-backend" && status=error}'
)
_SLOW_TRACES = traces_link(
    "Slow runs (traces)",
    '{resource.service.name="sample-backend" && span.http.route="/ag-ui/events" && duration>2.5s}',
)


def _kpis() -> list[PanelBuilder]:
    return [
        stat_panel(
            "Request rate",
            "Requests per second to /ag-ui/events, all instances selected.",
            [prom(f"sum({_RATE})")],
            unit="reqps",
        ),
        stat_panel(
            "5xx error ratio",
            "Share of /ag-ui/events requests answered 5xx. The critical alert fires above 5 % for 5 m.",
            # `or vector(0)`: with no 5xx at all the numerator has no series; show 0 %, not "No data".
            [prom(f"(sum({_RATE_5XX}) or vector(0)) / sum({_RATE})")],
            unit="percentunit",
            steps=((None, "green"), (0.01, "orange"), (0.05, "red")),
            links=[_ERROR_LOGS, _ERROR_TRACES],
            decimals=2,
        ),
        stat_panel(
            "p99 latency",
            "99th percentile of /ag-ui/events (until the SSE stream ends). Pages above 5 s for 5 m.",
            [prom(f"histogram_quantile(0.99, sum by (le) ({_BUCKETS}))")],
            unit="s",
            steps=((None, "green"), (2.5, "orange"), (5, "red")),
            links=[_SLOW_TRACES],
        ),
        stat_panel(
            "Open SSE streams",
            "AG-UI streams open right now, summed over the selected instances.",
            [prom(f"sum(agent_sse_streams_active{{{BACKEND}}})")],
        ),
    ]


def _traffic() -> list[PanelBuilder]:
    return [
        timeseries(
            "Request rate by instance",
            "Requests per second to /ag-ui/events.",
            [prom(f"sum by (instance) ({_RATE})", "{{instance}}")],
            unit="reqps",
            links=[_ERROR_LOGS],
        ),
        timeseries(
            "Error ratio (5xx and 401/403)",
            "5xx are server failures; 401/403 are refused callers, which also hurt users when they rise.",
            [
                prom(
                    f"(sum by (instance) ({_RATE_5XX}) or sum by (instance) ({_RATE}) * 0)"
                    f" / sum by (instance) ({_RATE})",
                    "5xx {{instance}}",
                ),
                prom(
                    f"(sum by (instance) ({_RATE_AUTH}) or sum by (instance) ({_RATE}) * 0)"
                    f" / sum by (instance) ({_RATE})",
                    "401/403 {{instance}}",
                    "B",
                ),
            ],
            unit="percentunit",
            steps=((None, "green"), (0.05, "red")),
            links=[_ERROR_LOGS, _ERROR_TRACES],
        ),
        timeseries(
            "Latency p95 / p99",
            "Percentiles of /ag-ui/events; the dots are exemplars: click one to open its trace in Tempo.",
            [
                prom(f"histogram_quantile(0.95, sum by (le) ({_BUCKETS}))", "p95", exemplar=True),
                prom(f"histogram_quantile(0.99, sum by (le) ({_BUCKETS}))", "p99", "B", exemplar=True),
            ],
            unit="s",
            steps=((None, "green"), (2.5, "orange"), (5, "red")),
            links=[_SLOW_TRACES],
        ),
        timeseries(
            "Runs by outcome",
            "Agent runs per second that finished or ended with RUN_ERROR.",
            [
                prom(
                    f"sum by (outcome) (rate(agent_runs_total{{{BACKEND}}}[$__rate_interval]))", "{{outcome}}"
                )
            ],
            unit="ops",
            links=[_ERROR_TRACES],
        ),
    ]


def _status() -> list[PanelBuilder]:
    return [
        timeseries(
            "Dependencies up (database, LLM)",
            "1 when the instance's readiness check last found the dependency healthy.",
            [prom(f"min by (dependency) (agent_dependency_up{{{BACKEND}}})", "{{dependency}}")],
            max_value=1,
            span=8,
            links=[_ERROR_LOGS],
        ),
        timeseries(
            "Probes and scrapes",
            "Blackbox /health and /readiness probes and the Prometheus scrape of every backend instance.",
            [
                prom(
                    'min by (job, instance) (probe_success{job=~"blackbox-health|blackbox-readiness"})',
                    "{{job}} {{instance}}",
                ),
                prom('up{job="backend"}', "scrape {{instance}}", "B"),
            ],
            max_value=1,
            span=8,
        ),
        stat_panel(
            "LLM error ratio",
            "Share of LLM calls that failed; the critical alert fires above 20 % for 5 m.",
            [
                prom(
                    "(sum(rate(gen_ai_client_operation_duration_seconds_count"
                    f'{{{BACKEND}, error_type!=""}}[$__rate_interval])) or vector(0))'
                    " / sum(rate(gen_ai_client_operation_duration_seconds_count"
                    f"{{{BACKEND}}}[$__rate_interval]))"
                )
            ],
            unit="percentunit",
            steps=((None, "green"), (0.05, "orange"), (0.2, "red")),
            span=4,
            height=8,
        ),
        stat_panel(
            "Active faults",
            "Faults or traffic modes switched on through the fault API (0 in normal operation).",
            [prom(f"count(agent_fault_active{{{BACKEND}}} == 1) or vector(0)")],
            steps=((None, "green"), (1, "orange")),
            span=4,
            height=8,
            links=[logs_link("Fault changes (audit log)", '{logger="audit"} | json | event="FAULT_CHANGED"')],
        ),
        timeseries(
            "CPU utilisation",
            "Process CPU over the cores the instance may use (cgroup quota or configured).",
            [
                prom(
                    f"rate(process_cpu_seconds_total{{{BACKEND}}}[$__rate_interval])"
                    f" / agent_process_cpu_limit_cores{{{BACKEND}}}",
                    "{{instance}}",
                )
            ],
            unit="percentunit",
            steps=((None, "green"), (0.8, "orange"), (0.95, "red")),
        ),
        timeseries(
            "Memory utilisation",
            "Resident memory over the instance's memory limit (cgroup limit or configured).",
            [
                prom(
                    f"process_resident_memory_bytes{{{BACKEND}}}"
                    f" / agent_process_memory_limit_bytes{{{BACKEND}}}",
                    "{{instance}}",
                )
            ],
            unit="percentunit",
            steps=((None, "green"), (0.8, "orange"), (0.95, "red")),
        ),
    ]


def build() -> Dashboard:
    return board(
        "overview",
        "Overview",
        "High-level health of the agent backend: KPIs of /ag-ui/events, dependencies, resources.",
        [instance_variable()],
        [
            ("Key performance indicators", _kpis()),
            ("Traffic, errors, latency", _traffic()),
            ("System-wide status", _status()),
        ],
    )
