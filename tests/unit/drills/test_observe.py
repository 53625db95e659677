"""How deliveries are matched to alerts and their text checked (no stack needed)."""

from __future__ import annotations

from typing import Any

from stack.drills.engine import _is_for, _masked
from stack.drills.model import AbsentAlert
from stack.drills.observe import delivery_path, delivery_text, parse_time


def delivery(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"kind": "slack", "receiver": "alerts", "alertnames": ["X"], "raw": {}}
    return {**base, **fields}


def test_receivers_are_spelled_as_scenarios_spell_them() -> None:
    assert delivery_path(delivery()) == "slack/alerts"
    assert delivery_path(delivery(kind="pagerduty", receiver="pagerduty")) == "pagerduty"
    assert delivery_path(delivery(kind="webhook", receiver="heartbeat")) == "webhook/heartbeat"


def test_go_timestamps_with_nanoseconds_parse() -> None:
    assert parse_time("2026-01-01T00:00:01.123456789Z") == parse_time("2026-01-01T00:00:01.123456Z")
    assert parse_time("2026-01-01T00:00:01Z") == 1767225601.0


def test_a_delivery_is_for_an_alert_when_it_names_it_and_its_key_labels() -> None:
    ref = AbsentAlert(alert="X", labels={"instance": "backend-1:8000"})
    assert _is_for(ref, delivery(title="[FIRING:1] X on backend-1:8000"))
    assert not _is_for(ref, delivery(title="[FIRING:1] X on backend-2:8000"))
    assert not _is_for(ref, delivery(alertnames=["Y"], title="on backend-1:8000"))
    # A webhook carries its labels in the raw payload.
    assert _is_for(
        ref, delivery(kind="webhook", raw={"alerts": [{"labels": {"instance": "backend-1:8000"}}]})
    )


def test_the_text_check_ignores_values_that_change_between_evaluations() -> None:
    seen_by_prometheus = "69.74% of the alerts failed over the last 5 minutes."
    delivered = delivery(text="*Summary* 45% of the alerts failed over the last 5 minutes.")
    assert _masked(seen_by_prometheus) in _masked(delivery_text(delivered))
    assert _masked("12 alerts failed") not in _masked(delivery_text(delivered))
