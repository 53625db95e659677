"""Read the committed dashboard JSON: every panel, every query with its datasource, and
PromQL with Grafana's template variables replaced so a parser (or Prometheus) accepts it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "provisioning" / "grafana" / "dashboards"
UIDS = (
    "overview",
    "llm-performance",
    "mcp-tools",
    "a2a-communication",
    "resource-utilization",
    "audit-security",
    "alerts-slo",
)
# Values that stand in for Grafana's variables; "All" of a multi-value variable is `.+`.
SUBSTITUTIONS = {
    "$__rate_interval": "1m",
    "$__interval": "15s",
    "$__range": "1h",
    "$__auto": "1m",
    "$instance": ".+",
    "$tool": ".+",
    "$agent": ".+",
}


@dataclass(frozen=True)
class Query:
    dashboard: str
    panel: str
    datasource: str
    expr: str


def load(uid: str) -> dict[str, Any]:
    data = json.loads((DASHBOARDS / f"{uid}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in board.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def queries(uid: str) -> list[Query]:
    board = load(uid)
    found = []
    for panel in panels(board):
        for target in panel.get("targets", []):
            ds = (target.get("datasource") or panel.get("datasource") or {}).get("uid", "")
            expr = target.get("expr") or target.get("query") or ""
            found.append(Query(uid, panel["title"], ds, expr))
    return found


def all_queries(datasource: str) -> list[Query]:
    return [q for uid in UIDS for q in queries(uid) if q.datasource == datasource]


def substitute(expr: str) -> str:
    # Longest names first, so `$__range` is not clobbered by a shorter prefix.
    for name in sorted(SUBSTITUTIONS, key=len, reverse=True):
        expr = expr.replace(name, SUBSTITUTIONS[name])
    return expr


def link_queries(uid: str) -> list[tuple[str, dict[str, Any]]]:
    """(panel title, Explore query) of every data link that opens Explore."""
    found = []
    for panel in panels(load(uid)):
        for link in panel.get("fieldConfig", {}).get("defaults", {}).get("links", []):
            m = re.search(r"panes=(.*)$", link["url"])
            if m:
                panes = json.loads(unquote(m.group(1)))
                for query in panes["a"]["queries"]:
                    found.append((panel["title"], query))
    return found
