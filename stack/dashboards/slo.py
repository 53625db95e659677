"""Alerts & SLO: what is firing now (Alertmanager and Prometheus), the 30-day error budgets
of ``/ag-ui/events`` and the burn rates the multiwindow SLO alerts watch.

Objectives match ``provisioning/prometheus/rules/slo.yml``: availability 99.9 % of
requests without a 5xx, latency 99 % of requests within 2.5 s, over 30 days. Burn rates
read that file's ``job:slo_*_errors:ratio_rate<window>`` recording rules.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.models.dashboard import Dashboard

from ._board import AGUI, PanelBuilder, board
from ._panels import ALERTMANAGER, ALERTMANAGER_NAME, prom, stat_panel, table_panel, timeseries

__all__ = ["AVAILABILITY_BUDGET", "LATENCY_BUDGET", "build"]

AVAILABILITY_BUDGET = 0.001  # 1 - 99.9 %
LATENCY_BUDGET = 0.01  # 1 - 99 %
# Burn-rate thresholds of the page (14.4x, 6x) and ticket (3x, 1x) alerts.
_BURN_STEPS = ((None, "green"), (1, "yellow"), (3, "orange"), (14.4, "red"))
_BUDGET_STEPS = ((None, "red"), (0.25, "orange"), (0.5, "green"))
# SLOs are per service: the AG-UI selector without the $instance filter.
_SLO_SEL = AGUI.replace(', instance=~"$instance"', "")
_ALL_30D = f"sum(increase(http_server_request_duration_seconds_count{{{_SLO_SEL}}}[30d]))"


def _alerts() -> list[PanelBuilder]:
    groups = (
        dash.Panel()
        .type("alertGroups")
        .title("Firing alerts (Alertmanager)")
        .description(
            "Alert groups as Alertmanager holds them: grouped, with silences and inhibitions applied."
        )
        .datasource(ALERTMANAGER)
        .span(12)
        .height(10)
        .options({"alertmanager": ALERTMANAGER_NAME, "expandAll": True, "labels": ""})
    )
    return [
        groups,
        table_panel(
            "Firing alerts (Prometheus)",
            "Every alert Prometheus evaluates as firing, with severity and area; Watchdog is always here.",
            [prom('sum by (alertname, severity, area) (ALERTS{alertstate="firing"})', instant=True)],
            span=12,
            height=10,
        ),
        timeseries(
            "Alerts firing and pending",
            "How many alerts were firing or pending over time, by severity.",
            [prom("sum by (alertstate, severity) (ALERTS)", "{{alertstate}} {{severity}}")],
            height=6,
            span=24,
        ),
    ]


def _budgets() -> list[PanelBuilder]:
    availability_errors = (
        "(sum(increase(http_server_request_duration_seconds_count"
        f'{{{_SLO_SEL}, http_response_status_code=~"5.."}}[30d])) or vector(0)) / {_ALL_30D}'
    )
    # le=~"2.5|2.50*": 2.x keeps the exporter's spelling of the bucket bound, 3.x normalises it.
    latency_errors = (
        f'1 - sum(increase(http_server_request_duration_seconds_bucket{{{_SLO_SEL}, le=~"2.5|2.50*"}}[30d]))'
        f" / {_ALL_30D}"
    )
    return [
        stat_panel(
            "Availability error budget remaining (30 d)",
            "1 - (5xx ratio over 30 days / 0.1 % budget). Below 0 the objective is missed.",
            [prom(f"1 - ({availability_errors}) / {AVAILABILITY_BUDGET}")],
            unit="percentunit",
            steps=_BUDGET_STEPS,
            span=12,
            decimals=1,
        ),
        stat_panel(
            "Latency error budget remaining (30 d)",
            "1 - (share of requests slower than 2.5 s over 30 days / 1 % budget).",
            [prom(f"1 - ({latency_errors}) / {LATENCY_BUDGET}")],
            unit="percentunit",
            steps=_BUDGET_STEPS,
            span=12,
            decimals=1,
        ),
    ]


def _burn(kind: str, budget: float) -> PanelBuilder:
    windows = ("5m", "30m", "1h", "6h", "1d")
    refs = "ABCDE"
    return timeseries(
        f"{kind.capitalize()} burn rate",
        f"{kind.capitalize()} error ratio over each alert window divided by the {budget:.1%} budget: "
        "1x spends the budget in exactly 30 days; the page fires at 14.4x (1h and 5m) or 6x (6h and 30m).",
        [
            prom(f"sum(job:slo_{kind}_errors:ratio_rate{w}) / {budget}", w, ref)
            for w, ref in zip(windows, refs, strict=True)
        ],
        steps=_BURN_STEPS,
    )


def build() -> Dashboard:
    return board(
        "alerts-slo",
        "Alerts & SLO",
        "Firing alerts, the 30-day error budgets of /ag-ui/events and the burn rates the SLO alerts watch.",
        [],
        [
            ("Alerts", _alerts()),
            ("Error budgets", _budgets()),
            ("Burn rates", [_burn("availability", AVAILABILITY_BUDGET), _burn("latency", LATENCY_BUDGET)]),
        ],
    )
