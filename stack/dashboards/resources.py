"""Resource Utilization (strategy section 3e): CPU, memory, instances, database and cache.

The strategy's host metrics come from the process itself here (prometheus_client's
process collector plus the cgroup-derived limits), and the database / cache figures
from the backend's conversation store and cache instrumentation.
"""

from __future__ import annotations

from grafana_foundation_sdk.models.dashboard import Dashboard

from ._board import BACKEND, PanelBuilder, board, instance_variable
from ._panels import logs_link, prom, stat_panel, timeseries, traces_link

__all__ = ["build"]

_UTIL = ((None, "green"), (0.8, "orange"), (0.95, "red"))
_INSTANCE_LOGS = logs_link("Logs of ${__field.labels.instance}", '{instance=~"${__field.labels.instance}"}')
# Saturation shows first as slow runs: the slowest traces say which step waited.
_SLOW_TRACES = traces_link(
    "Slow runs (traces)",
    '{resource.service.name="sample-backend" && span.http.route="/ag-ui/events" && duration>2.5s}',
)


def _process() -> list[PanelBuilder]:
    return [
        timeseries(
            "CPU utilisation per instance",
            "rate(process CPU seconds) over the cores the instance may use; warning above 80 % for 15 m.",
            [
                prom(
                    f"rate(process_cpu_seconds_total{{{BACKEND}}}[$__rate_interval])"
                    f" / agent_process_cpu_limit_cores{{{BACKEND}}}",
                    "{{instance}}",
                )
            ],
            unit="percentunit",
            steps=_UTIL,
            links=[_INSTANCE_LOGS, _SLOW_TRACES],
        ),
        timeseries(
            "Memory utilisation per instance",
            "Resident memory over the memory limit; warning above 80 % for 15 m.",
            [
                prom(
                    f"process_resident_memory_bytes{{{BACKEND}}}"
                    f" / agent_process_memory_limit_bytes{{{BACKEND}}}",
                    "{{instance}}",
                )
            ],
            unit="percentunit",
            steps=_UTIL,
            links=[_INSTANCE_LOGS],
        ),
        timeseries(
            "Memory usage per instance",
            "Resident memory and the limit it is measured against.",
            [
                prom(f"process_resident_memory_bytes{{{BACKEND}}}", "rss {{instance}}"),
                prom(f"agent_process_memory_limit_bytes{{{BACKEND}}}", "limit {{instance}}", "B"),
            ],
            unit="bytes",
        ),
        timeseries(
            "Open file descriptors",
            "Sockets and files held open by each instance over its limit (leaked connections show here).",
            [prom(f"process_open_fds{{{BACKEND}}} / process_max_fds{{{BACKEND}}}", "{{instance}}")],
            unit="percentunit",
            steps=_UTIL,
        ),
        stat_panel(
            "Instances running / configured",
            "Backend instances Prometheus scrapes successfully, out of the configured targets.",
            [
                prom('count(up{job="backend"} == 1) or vector(0)', "running"),
                prom('count(up{job="backend"})', "configured", "B"),
            ],
            span=12,
            height=6,
        ),
        timeseries(
            "Network load: HTTP requests served",
            "Requests per second each instance serves on every route (no byte counter is exported).",
            [
                prom(
                    f"sum by (instance) (rate(http_server_request_duration_seconds_count{{{BACKEND}}}"
                    "[$__rate_interval]))",
                    "{{instance}}",
                )
            ],
            unit="reqps",
            height=6,
        ),
    ]


def _database() -> list[PanelBuilder]:
    return [
        timeseries(
            "Database pool connections in use",
            "Connections checked out over the pool size; near 100 % requests queue for a connection.",
            [
                prom(
                    f"agent_db_pool_connections_in_use{{{BACKEND}}}"
                    f" / agent_db_pool_connections_max{{{BACKEND}}}",
                    "{{instance}}",
                )
            ],
            unit="percentunit",
            steps=_UTIL,
            span=8,
            links=[_INSTANCE_LOGS, _SLOW_TRACES],
        ),
        timeseries(
            "Database storage used",
            "Conversation-store bytes over its volume's capacity.",
            [
                prom(
                    f"agent_db_storage_used_bytes{{{BACKEND}}}"
                    f" / agent_db_storage_capacity_bytes{{{BACKEND}}}",
                    "{{instance}}",
                )
            ],
            unit="percentunit",
            steps=_UTIL,
            span=8,
        ),
        timeseries(
            "Database query latency p95",
            "95th percentile of conversation-store queries by operation.",
            [
                prom(
                    "histogram_quantile(0.95, sum by (le, operation) "
                    f"(rate(agent_db_query_duration_seconds_bucket{{{BACKEND}}}[$__rate_interval])))",
                    "{{operation}}",
                    exemplar=True,
                )
            ],
            unit="s",
            span=8,
        ),
        timeseries(
            "Cache miss ratio",
            "Share of cache lookups that missed; a degraded cache sends the load to the LLM and tools.",
            [
                prom(
                    f'(sum(rate(agent_cache_requests_total{{{BACKEND}, result="miss"}}[$__rate_interval]))'
                    " or vector(0))"
                    f" / sum(rate(agent_cache_requests_total{{{BACKEND}}}[$__rate_interval]))",
                    "miss ratio",
                )
            ],
            unit="percentunit",
            steps=((None, "green"), (0.5, "orange")),
        ),
        timeseries(
            "Cache operation latency p95",
            "95th percentile of cache operations by operation.",
            [
                prom(
                    "histogram_quantile(0.95, sum by (le, operation) "
                    f"(rate(agent_cache_operation_duration_seconds_bucket{{{BACKEND}}}[$__rate_interval])))",
                    "{{operation}}",
                    exemplar=True,
                )
            ],
            unit="s",
        ),
    ]


def build() -> Dashboard:
    return board(
        "resource-utilization",
        "Resource Utilization",
        "CPU, memory and file descriptors of each backend instance, "
        "its database pool and storage, and its cache.",
        [instance_variable()],
        [("Backend service", _process()), ("Database and cache", _database())],
    )
