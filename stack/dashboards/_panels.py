"""Panel and query helpers shared by every dashboard module.

Each helper returns a grafana-foundation-sdk builder with the bundle's conventions
already applied: the fixed datasource uids (``prometheus``, ``loki``, ``tempo``,
``alertmanager``), a refId per query, exemplars on latency queries, and data links
that open the matching logs (Loki) or traces (Tempo) in Explore.

Usage::

    panel = timeseries("RPS", "Requests per second.", [prom('sum(rate(x[$__rate_interval]))')], unit="reqps")
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TypeVar
from urllib.parse import quote

from grafana_foundation_sdk.builders import common, loki, prometheus, stat, table
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import logs as logs_panel
from grafana_foundation_sdk.builders import timeseries as _ts
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models.dashboard import (
    DashboardLinkType,
    DataSourceRef,
    DataTransformerConfig,
    Threshold,
    ThresholdsMode,
    VariableRefresh,
    VariableSort,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

__all__ = [
    "ALERTMANAGER",
    "ALERTMANAGER_NAME",
    "LOKI",
    "PROMETHEUS",
    "TEMPO",
    "Link",
    "Query",
    "logs",
    "logs_link",
    "loki_query",
    "prom",
    "query_variable",
    "stat_panel",
    "table_panel",
    "thresholds",
    "timeseries",
    "traces_link",
]

PROMETHEUS = DataSourceRef(type_val="prometheus", uid="prometheus")
LOKI = DataSourceRef(type_val="loki", uid="loki")
TEMPO = DataSourceRef(type_val="tempo", uid="tempo")
ALERTMANAGER = DataSourceRef(type_val="alertmanager", uid="alertmanager")
# The alert-groups panel names its Alertmanager by datasource name, not uid.
ALERTMANAGER_NAME = "Alertmanager"

Query = cogbuilder.Builder[cogvariants.Dataquery]
Link = dash.DashboardLink

# Grafana replaces these tokens when the link is clicked; they must survive URL-quoting.
_TIME_FROM = "${__from}"
_TIME_TO = "${__to}"


def prom(
    expr: str, legend: str = "", ref: str = "A", *, exemplar: bool = False, instant: bool = False
) -> Query:
    """A Prometheus query on the ``prometheus`` datasource."""
    q = prometheus.Dataquery().expr(expr).ref_id(ref).datasource(PROMETHEUS).legend_format(legend or "__auto")
    if exemplar:
        q = q.exemplar(True)
    if instant:
        q = q.instant().format(PromQueryFormat.TABLE)
    return q


def loki_query(expr: str, legend: str = "", ref: str = "A") -> Query:
    """A LogQL query on the ``loki`` datasource (log lines or a metric query)."""
    q = loki.Dataquery().expr(expr).ref_id(ref).datasource(LOKI)
    if legend:
        q = q.legend_format(legend)
    return q


def _explore_url(datasource: DataSourceRef, query: dict[str, object]) -> str:
    """A relative Explore URL running ``query`` on ``datasource`` over the panel's time range.

    Grafana variables inside the query (``${__field.labels.tool}``) stay unquoted so the
    link interpolates them; everything else is percent-encoded.
    """
    panes = {
        "a": {
            "datasource": datasource.uid,
            "queries": [
                {"refId": "A", "datasource": {"type": datasource.type_val, "uid": datasource.uid}, **query}
            ],
            "range": {"from": _TIME_FROM, "to": _TIME_TO},
        }
    }
    encoded = quote(json.dumps(panes, separators=(",", ":"), sort_keys=True), safe="")
    # Undo the quoting of ${...} tokens so Grafana can still interpolate them.
    for token in _grafana_tokens(json.dumps(panes)):
        encoded = encoded.replace(quote(token, safe=""), token)
    return f"/explore?schemaVersion=1&orgId=1&panes={encoded}"


def _grafana_tokens(text: str) -> set[str]:
    tokens: set[str] = set()
    start = text.find("${")
    while start != -1:
        end = text.find("}", start)
        tokens.add(text[start : end + 1])
        start = text.find("${", end)
    return tokens


def logs_link(title: str, logql: str) -> Link:
    """A data link opening ``logql`` in Loki (Explore) over the panel's time range."""
    url = _explore_url(LOKI, {"expr": logql, "queryType": "range"})
    return dash.DashboardLink(title).type(DashboardLinkType.LINK).url(url).target_blank(True)


def traces_link(title: str, traceql: str) -> Link:
    """A data link opening a TraceQL search in Tempo (Explore) over the panel's time range."""
    url = _explore_url(TEMPO, {"query": traceql, "queryType": "traceql", "limit": 20})
    return dash.DashboardLink(title).type(DashboardLinkType.LINK).url(url).target_blank(True)


def thresholds(*steps: tuple[float | None, str]) -> dash.ThresholdsConfig:
    """Absolute thresholds; the first step's value is None (the base colour)."""
    return (
        dash.ThresholdsConfig()
        .mode(ThresholdsMode.ABSOLUTE)
        .steps([Threshold(value=v, color=c) for v, c in steps])
    )


_DEFAULT_THRESHOLDS = ((None, "green"),)


_PanelT = TypeVar("_PanelT", _ts.Panel, stat.Panel)


def _framed(
    panel: _PanelT,
    title: str,
    description: str,
    targets: Sequence[Query],
    unit: str,
    span: int,
    height: int,
    steps: Sequence[tuple[float | None, str]],
) -> _PanelT:
    """What every graph panel sets: title, description, datasource of its queries, unit, size,
    thresholds."""
    return (
        panel.title(title)
        .description(description)
        .datasource(_panel_datasource(targets))
        .targets(list(targets))
        .unit(unit)
        .span(span)
        .height(height)
        .thresholds(thresholds(*steps))
    )


def timeseries(
    title: str,
    description: str,
    targets: Sequence[Query],
    *,
    unit: str = "short",
    links: Sequence[Link] = (),
    span: int = 12,
    height: int = 8,
    steps: Sequence[tuple[float | None, str]] = _DEFAULT_THRESHOLDS,
    max_value: float | None = None,
) -> _ts.Panel:
    """A time-series panel; thresholds other than the default are drawn as dashed lines."""
    p = (
        _framed(_ts.Panel(), title, description, targets, unit, span, height, steps)
        .fill_opacity(10)
        .line_width(1)
        .legend(
            common.VizLegendOptions().show_legend(True).display_mode(common_models.LegendDisplayMode.LIST)
        )
    )
    if len(steps) > 1:
        p = p.thresholds_style(
            common.GraphThresholdsStyleConfig().mode(common_models.GraphThresholdsStyleMode.DASHED)
        )
    if max_value is not None:
        p = p.max(max_value).min(0)
    if links:
        p = p.data_links(list(links))
    return p


def stat_panel(
    title: str,
    description: str,
    targets: Sequence[Query],
    *,
    unit: str = "short",
    steps: Sequence[tuple[float | None, str]] = _DEFAULT_THRESHOLDS,
    links: Sequence[Link] = (),
    span: int = 6,
    height: int = 5,
    decimals: int | None = None,
) -> stat.Panel:
    """A single-value panel coloured by thresholds, with a sparkline."""
    p = (
        _framed(stat.Panel(), title, description, targets, unit, span, height, steps)
        .color_mode(common_models.BigValueColorMode.BACKGROUND)
        .graph_mode(common_models.BigValueGraphMode.AREA)
        .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )
    if decimals is not None:
        p = p.decimals(decimals)
    if links:
        p = p.data_links(list(links))
    return p


def table_panel(
    title: str, description: str, targets: Sequence[Query], *, span: int = 24, height: int = 8
) -> table.Panel:
    """A table of an instant query's series (one row per label set)."""
    return (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(_panel_datasource(targets))
        .targets(list(targets))
        .span(span)
        .height(height)
        # The instant query's timestamp and constant value add nothing to a list of label sets.
        .with_transformation(
            DataTransformerConfig(id_val="organize", options={"excludeByName": {"Time": True, "Value": True}})
        )
    )


def logs(title: str, description: str, logql: str, *, span: int = 24, height: int = 10) -> logs_panel.Panel:
    """A Loki log panel; each line's ``trace_id`` links to Tempo through the datasource's derived field."""
    return (
        logs_panel.Panel()
        .title(title)
        .description(description)
        .datasource(LOKI)
        .targets([loki_query(logql)])
        .span(span)
        .height(height)
        .show_time(True)
        .wrap_log_message(True)
        .enable_log_details(True)
        .prettify_log_message(False)
        .sort_order(common_models.LogsSortOrder.DESCENDING)
        .dedup_strategy(common_models.LogsDedupStrategy.NONE)
    )


def query_variable(name: str, label: str, query: str) -> dash.QueryVariable:
    """A multi-value Prometheus label variable; "All" is the regex ``.+``: every value, and
    in LogQL a selector that still excludes streams without the label (Loki also refuses a
    selector whose every matcher accepts the empty string)."""
    return (
        dash.QueryVariable(name)
        .label(label)
        .datasource(PROMETHEUS)
        .query(query)
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .multi(True)
        .include_all(True)
        .all_value(".+")
        .sort(VariableSort.ALPHABETICAL_ASC)
    )


def _panel_datasource(targets: Sequence[Query]) -> DataSourceRef:
    uids = {getattr(t.build(), "datasource", None) for t in targets}
    refs = [u for u in uids if isinstance(u, DataSourceRef)]
    if len({r.uid for r in refs}) == 1:
        return refs[0]
    # Mixed panels are not used: one datasource per panel keeps the links unambiguous.
    raise ValueError(f"panel targets use several datasources: {sorted(str(r.uid) for r in refs)}")
