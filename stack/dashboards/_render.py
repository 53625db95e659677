"""Build every dashboard and serialise it the same way each time (sorted keys, 2-space
indent, trailing newline), so that regenerating the committed JSON gives no diff."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard

from . import a2a, llm, overview, resources, security, slo, tools

__all__ = ["DASHBOARD_DIR", "build_all", "render", "write_all"]

DASHBOARD_DIR = Path(__file__).resolve().parents[2] / "provisioning" / "grafana" / "dashboards"

_BUILDERS: tuple[Callable[[], Dashboard], ...] = (
    overview.build,
    llm.build,
    tools.build,
    a2a.build,
    resources.build,
    security.build,
    slo.build,
)


def build_all() -> dict[str, Dashboard]:
    """Every dashboard model by uid, in menu order."""
    boards: dict[str, Dashboard] = {}
    for build in _BUILDERS:
        model = build()
        if not model.uid or model.uid in boards:
            raise ValueError(f"dashboard uid missing or duplicated: {model.uid!r}")
        boards[model.uid] = model
    return boards


def render(model: Dashboard) -> str:
    """The JSON text Grafana provisions."""
    return json.dumps(model, cls=JSONEncoder, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_all(directory: Path = DASHBOARD_DIR) -> list[Path]:
    """Write ``<uid>.json`` for every dashboard; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for uid, model in build_all().items():
        path = directory / f"{uid}.json"
        path.write_text(render(model), encoding="utf-8")
        written.append(path)
    return written
