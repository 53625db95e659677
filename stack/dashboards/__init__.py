"""The bundle's Grafana dashboards as code (grafana-foundation-sdk).

``python -m stack.dashboards`` writes one JSON file per dashboard into
``provisioning/grafana/dashboards/``; ``--check`` exits non-zero when the committed
files differ from what the code generates.

Usage::

    for uid, model in build_all().items():
        print(uid, len(render(model)))
"""

from __future__ import annotations

from ._render import DASHBOARD_DIR, build_all, render, write_all

__all__ = ["DASHBOARD_DIR", "build_all", "render", "write_all"]
