"""The bundle's alert catalog and Alertmanager URL overrides.

``load_alert_rules()`` reads every alerting rule from ``provisioning/prometheus/rules/``;
``alert_names()`` lists their names (what drills and coverage tests iterate over);
``override_urls()`` points Alertmanager's receivers at real services from environment variables
when the stack renders ``alertmanager.yml``: each default is replaced as a whole parsed value;
``apply_url_overrides()`` does the same on the file's text.
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
from stack.alerting._urls import URL_OVERRIDES, apply_url_overrides, override_urls

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
    "override_urls",
    "runbook_url",
]
