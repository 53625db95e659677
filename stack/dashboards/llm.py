"""LLM Performance (strategy section 3b): call rate, latency, errors, tokens, cost, budget.

Built on the OpenTelemetry GenAI metrics (``gen_ai_client_operation_duration_seconds``,
``gen_ai_client_token_usage``) plus the backend's cost counter and daily token budget.
"""

from __future__ import annotations

from grafana_foundation_sdk.models.dashboard import Dashboard

from ._board import BACKEND, PanelBuilder, board, instance_variable
from ._panels import logs_link, prom, stat_panel, timeseries, traces_link

__all__ = ["build"]

_OPS = "gen_ai_client_operation_duration_seconds"
_COUNT = f"rate({_OPS}_count{{{BACKEND}}}[$__rate_interval])"
_ERRORS = f'rate({_OPS}_count{{{BACKEND}, error_type!=""}}[$__rate_interval])'
_BUCKETS = f"rate({_OPS}_bucket{{{BACKEND}}}[$__rate_interval])"
_TOKENS = f"rate(gen_ai_client_token_usage_sum{{{BACKEND}}}[$__rate_interval])"

_LLM_TRACES = traces_link("LLM calls (traces)", '{span.gen_ai.operation.name="chat"}')
_LLM_ERROR_TRACES = traces_link(
    "Failed LLM calls (traces)", '{span.gen_ai.operation.name="chat" && status=error}'
)
_LLM_ERROR_LOGS = logs_link(
    "LLM errors (logs)", '{instance=~"$instance", level=~"ERROR|WARNING"} |~ "(?i)llm"'
)


def _calls() -> list[PanelBuilder]:
    return [
        timeseries(
            "LLM call rate",
            "Chat-completion calls per second, by model and instance.",
            [
                prom(
                    f"sum by (gen_ai_request_model, instance) ({_COUNT})",
                    "{{gen_ai_request_model}} {{instance}}",
                )
            ],
            unit="ops",
            links=[_LLM_TRACES],
        ),
        timeseries(
            "LLM call latency p50 / p95 / p99",
            "Duration of LLM calls (streaming calls until the last chunk); "
            "dots are exemplars linking to traces.",
            [
                prom(f"histogram_quantile(0.50, sum by (le) ({_BUCKETS}))", "p50", exemplar=True),
                prom(f"histogram_quantile(0.95, sum by (le) ({_BUCKETS}))", "p95", "B", exemplar=True),
                prom(f"histogram_quantile(0.99, sum by (le) ({_BUCKETS}))", "p99", "C", exemplar=True),
            ],
            unit="s",
            steps=((None, "green"), (2, "orange")),
            links=[_LLM_TRACES],
        ),
        timeseries(
            "LLM error ratio",
            "Share of LLM calls that failed, by error type; pages above 20 % for 5 m.",
            [
                # The `or ... * 0` branch keeps a 0 line while no call has failed yet.
                prom(
                    f"(sum by (error_type) ({_ERRORS}) or sum({_COUNT}) * 0) / scalar(sum({_COUNT}))",
                    "{{error_type}}",
                )
            ],
            unit="percentunit",
            steps=((None, "green"), (0.2, "red")),
            links=[_LLM_ERROR_TRACES, _LLM_ERROR_LOGS],
        ),
        stat_panel(
            "LLM error ratio (now)",
            "All error types together, over the selected instances.",
            [prom(f"(sum({_ERRORS}) or vector(0)) / sum({_COUNT})")],
            unit="percentunit",
            steps=((None, "green"), (0.05, "orange"), (0.2, "red")),
            span=12,
            height=8,
            links=[_LLM_ERROR_TRACES],
        ),
    ]


def _tokens() -> list[PanelBuilder]:
    return [
        timeseries(
            "Tokens per second (input / output)",
            "Token throughput by token type and model.",
            [
                prom(
                    f"sum by (gen_ai_token_type, gen_ai_request_model) ({_TOKENS})",
                    "{{gen_ai_token_type}} {{gen_ai_request_model}}",
                )
            ],
            unit="short",
        ),
        timeseries(
            "Tokens per LLM call",
            "Average input and output tokens per call: a rising input size means growing prompts.",
            [
                prom(
                    f"sum by (gen_ai_token_type) ({_TOKENS})"
                    " / sum by (gen_ai_token_type)"
                    f" (rate(gen_ai_client_token_usage_count{{{BACKEND}}}[$__rate_interval]))",
                    "{{gen_ai_token_type}}",
                )
            ],
        ),
        timeseries(
            "Daily token budget used",
            "Tokens used today over the daily budget, per instance; the warning fires near the budget.",
            [
                prom(
                    f"agent_llm_token_budget_used_tokens{{{BACKEND}}}"
                    f" / agent_llm_token_budget_limit_tokens{{{BACKEND}}}",
                    "{{instance}}",
                )
            ],
            unit="percentunit",
            steps=((None, "green"), (0.8, "orange"), (0.95, "red")),
        ),
        timeseries(
            "Tokens in the last hour by model",
            "Tokens over the trailing hour, per model and type: the trend behind cost and rate limits.",
            [
                prom(
                    f"sum by (gen_ai_request_model, gen_ai_token_type) "
                    f"(increase(gen_ai_client_token_usage_sum{{{BACKEND}}}[1h]))",
                    "{{gen_ai_request_model}} {{gen_ai_token_type}}",
                )
            ],
        ),
    ]


def _cost() -> list[PanelBuilder]:
    return [
        stat_panel(
            "Estimated cost in the selected range",
            "US dollars from token counts and list prices, summed over models.",
            [prom(f"sum(increase(agent_llm_cost_usd_total{{{BACKEND}}}[$__range]))")],
            unit="currencyUSD",
            span=8,
            decimals=4,
        ),
        stat_panel(
            "Estimated spend rate",
            "Current spend extrapolated to one hour.",
            [prom(f"sum(rate(agent_llm_cost_usd_total{{{BACKEND}}}[$__rate_interval])) * 3600")],
            unit="currencyUSD",
            span=8,
            decimals=4,
        ),
        timeseries(
            "Estimated cost per hour by model",
            "Spend rate per model, extrapolated to one hour.",
            [
                prom(
                    "sum by (gen_ai_request_model)"
                    f" (rate(agent_llm_cost_usd_total{{{BACKEND}}}[$__rate_interval]))"
                    " * 3600",
                    "{{gen_ai_request_model}}",
                )
            ],
            unit="currencyUSD",
            span=8,
            height=5,
        ),
    ]


def build() -> Dashboard:
    return board(
        "llm-performance",
        "LLM Performance",
        "Calls, latency, errors, tokens and estimated cost of the LLM the agent calls.",
        [instance_variable()],
        [("Calls, latency, errors", _calls()), ("Token usage", _tokens()), ("Cost", _cost())],
    )
