"""The bundle's alert catalog and Alertmanager URL overrides.

``load_alert_rules()`` reads every alerting rule from ``provisioning/prometheus/rules/``;
``alert_names()`` lists their names (what drills and coverage tests iterate over);
``apply_url_overrides()`` points Alertmanager's receivers at real services from environment
variables when the stack renders ``alertmanager.yml``.
"""

from __future__ import annotations

from stack.alerting._catalog import (
    AREAS,
    DASHBOARD_UIDS,
    PROVISIONING_DIR,
    RULES_DIR,
    RUNBOOK_URL_BASE,
    SEVERITIES,
    AlertRule,
    alert_names,
    load_alert_rules,
    runbook_url,
)
from stack.alerting._urls import URL_OVERRIDES, apply_url_overrides

__all__ = [
    "AREAS",
    "DASHBOARD_UIDS",
    "PROVISIONING_DIR",
    "RULES_DIR",
    "RUNBOOK_URL_BASE",
    "SEVERITIES",
    "URL_OVERRIDES",
    "AlertRule",
    "alert_names",
    "apply_url_overrides",
    "load_alert_rules",
    "runbook_url",
]
