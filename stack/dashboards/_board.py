"""Assemble a dashboard from rows of panels, the same way for every board.

Every board gets the bundle's tag (so the cross-dashboard link menu lists all seven),
a 1 h default range with a 30 s refresh, numbered panel ids (stable across runs, so
regenerating gives no diff) and the label selectors the queries share.

Usage::

    board("overview", "Overview", "High-level health.", [instance_variable()], [("KPIs", [panel])])
"""

from __future__ import annotations

from collections.abc import Sequence

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import dashboard as models

from ._panels import query_variable

__all__ = [
    "AGUI",
    "BACKEND",
    "TAG",
    "PanelBuilder",
    "agent_variable",
    "board",
    "instance_variable",
    "tool_variable",
]

TAG = "alert-proving-ground"
# Every backend query is scoped to the backend job and the $instance variable.
BACKEND = 'job="backend", instance=~"$instance"'
AGUI = BACKEND + ', http_route="/ag-ui/events"'

PanelBuilder = cogbuilder.Builder[models.Panel]
Row = tuple[str, Sequence[PanelBuilder]]


def instance_variable() -> dash.QueryVariable:
    return query_variable("instance", "Instance", 'label_values(up{job="backend"}, instance)')


def tool_variable() -> dash.QueryVariable:
    return query_variable("tool", "Tool", 'label_values(agent_tool_calls_total{job="backend"}, tool)')


def agent_variable() -> dash.QueryVariable:
    return query_variable("agent", "Agent", 'label_values(agent_a2a_delegations_total{job="backend"}, agent)')


def board(
    uid: str,
    title: str,
    description: str,
    variables: Sequence[dash.QueryVariable],
    rows: Sequence[Row],
) -> models.Dashboard:
    """The built dashboard model: rows in order, panel ids numbered from 1."""
    d = (
        dash.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags([TAG])
        .editable()
        .time("now-1h", "now")
        .refresh("30s")
        .timezone("browser")
        .tooltip(models.DashboardCursorSync.CROSSHAIR)
        .link(
            dash.DashboardLink("Dashboards")
            .type(models.DashboardLinkType.DASHBOARDS)
            .tags([TAG])
            .as_dropdown(True)
            .include_vars(True)
            .keep_time(True)
        )
    )
    for v in variables:
        d = d.with_variable(v)
    for row_title, panels in rows:
        d = d.with_row(dash.Row(row_title))
        for p in panels:
            d = d.with_panel(p)
    built: models.Dashboard = d.build()
    _number_panels(built)
    return built


def _number_panels(d: models.Dashboard) -> None:
    next_id = 1
    for p in d.panels or []:
        p.id_val = next_id
        next_id += 1
        for child in getattr(p, "panels", None) or []:
            child.id_val = next_id
            next_id += 1
