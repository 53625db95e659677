"""Read the alerting rules of ``provisioning/prometheus/rules/*.yml`` into typed records.

Usage::

    for rule in load_alert_rules():
        print(rule.name, rule.severity, rule.area, rule.for_, rule.keep_firing_for)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROVISIONING_DIR = Path(__file__).resolve().parents[2] / "provisioning"
RULES_DIR = PROVISIONING_DIR / "prometheus" / "rules"
RUNBOOK_URL_BASE = "https://github.com/agent-observability/alert-proving-ground/blob/main/docs/runbooks.md#"
SEVERITIES = ("critical", "warning", "info")
AREAS = ("availability", "llm", "tools", "a2a", "resources", "security", "slo", "stack")
# Grafana dashboard uids an alert's `dashboard` annotation may point at.
DASHBOARD_UIDS = (
    "overview",
    "llm-performance",
    "mcp-tools",
    "a2a-communication",
    "resource-utilization",
    "audit-security",
    "alerts-slo",
)


def runbook_url(alertname: str) -> str:
    """The runbook_url every alert must carry: the runbook section anchored at its lowercased name."""
    return RUNBOOK_URL_BASE + alertname.lower()


@dataclass(frozen=True)
class AlertRule:
    """One alerting rule. An alert name may have several rules (the SLO burn-rate windows)."""

    name: str
    expr: str
    for_: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    group: str = ""
    file: Path = field(default_factory=Path)
    # How long the alert stays firing after its condition clears ("0s": it resolves at once).
    keep_firing_for: str = "0s"

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "")

    @property
    def area(self) -> str:
        return self.labels.get("area", "")


def _rules_of(path: Path) -> list[AlertRule]:
    doc: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or not isinstance(doc.get("groups"), list):
        raise ValueError(f"{path}: key 'groups' is missing or not a list")
    rules: list[AlertRule] = []
    for group in doc["groups"]:
        for raw in group.get("rules") or []:
            if "alert" not in raw:
                continue
            rules.append(
                AlertRule(
                    name=str(raw["alert"]),
                    expr=str(raw["expr"]),
                    for_=str(raw.get("for", "0s")),
                    labels={str(k): str(v) for k, v in (raw.get("labels") or {}).items()},
                    annotations={str(k): str(v) for k, v in (raw.get("annotations") or {}).items()},
                    group=str(group.get("name", "")),
                    file=path,
                    keep_firing_for=str(raw.get("keep_firing_for", "0s")),
                )
            )
    return rules


def load_alert_rules(rules_dir: Path = RULES_DIR) -> list[AlertRule]:
    """Every alerting rule in ``rules_dir/*.yml``, in file then rule order."""
    rules: list[AlertRule] = []
    for path in sorted(rules_dir.glob("*.yml")):
        rules.extend(_rules_of(path))
    return rules


def alert_names(rules_dir: Path = RULES_DIR) -> list[str]:
    """The distinct alert names, sorted."""
    return sorted({rule.name for rule in load_alert_rules(rules_dir)})
