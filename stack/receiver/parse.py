"""Turn Alertmanager's notification payloads into :class:`Delivery` records.

Three shapes arrive, exactly as Alertmanager 0.28 sends them:

- PagerDuty Events API v2 (``pagerduty_configs`` with ``url``): ``routing_key``,
  ``dedup_key``, ``event_action`` (trigger/resolve), ``payload.summary`` / ``severity`` /
  ``custom_details``. Alert labels are not sent as such; alert names are read from the
  rendered text (``alertname = X`` in the default details, or the ``[FIRING:n] X`` subject).
- Slack (``slack_configs`` with ``api_url``): ``channel``, ``username`` and
  ``attachments[]`` with ``title``, ``text``, ``color`` (danger/good), ``fallback``.
- Webhook (``webhook_configs``), JSON version 4: ``status``, ``alerts[]`` with labels.

A payload of the wrong shape raises :class:`PayloadError` naming what is wrong.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = ["Delivery", "Kind", "PayloadError", "parse_pagerduty", "parse_slack", "parse_webhook"]

Kind = Literal["pagerduty", "slack", "webhook"]
Status = Literal["firing", "resolved"]

_ALERTNAME_IN_TEXT = re.compile(r"alertname\s*[=:]\s*\"?([A-Za-z_:][A-Za-z0-9_:]*)")
# Alertmanager's default subject: "[FIRING:2] AlertName (group label values)".
_SUBJECT = re.compile(r"\[(FIRING|RESOLVED)(?::\d+)?\]\s*([A-Za-z_:][A-Za-z0-9_:]*)?")


class PayloadError(ValueError):
    """A delivery whose body is not the shape its endpoint expects."""


class Delivery(BaseModel):
    """One notification as the receiver got it."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    received_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    kind: Kind
    # Slack channel (from the path), webhook name, or "pagerduty".
    receiver: str
    alertnames: list[str]
    status: Status
    severity: str | None = None
    title: str | None = None
    text: str | None = None
    description: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    # PagerDuty dedup key or Alertmanager group key: ties a resolve to its trigger.
    group_key: str | None = None
    raw: dict[str, Any]

    @property
    def alertname(self) -> str | None:
        return self.alertnames[0] if self.alertnames else None


def _require(body: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(body, dict):
        raise PayloadError(f"{where}: expected a JSON object, got {type(body).__name__}")
    if key not in body:
        raise PayloadError(f"{where}: missing field {key!r}")
    value = body[key]
    if not isinstance(value, kind):
        raise PayloadError(f"{where}: field {key!r} has the wrong type ({type(value).__name__})")
    return value


def _names_from_text(*texts: str | None) -> list[str]:
    names: list[str] = []
    for text in texts:
        if not text:
            continue
        for found in _ALERTNAME_IN_TEXT.findall(text):
            if found not in names:
                names.append(found)
        if not names:
            subject = _SUBJECT.search(text)
            if subject and subject.group(2):
                names.append(subject.group(2))
    return names


# Alertmanager's default details list each alert as "Labels:\n - name = value\n...".
_LABEL_LINE = re.compile(r"^\s*-\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def _labels_from_text(text: str | None) -> dict[str, str]:
    """Labels of the first alert listed in a rendered ``Labels:`` block, if any."""
    labels: dict[str, str] = {}
    inside = False
    for line in (text or "").splitlines():
        if line.strip() == "Labels:":
            if labels:
                break
            inside = True
            continue
        match = _LABEL_LINE.match(line) if inside else None
        if match:
            labels[match.group(1)] = match.group(2)
        elif inside and line.strip():
            inside = False
    return labels


# The bundle's title template: "[FIRING:1] Name (severity) on instance tool x agent y".
_TITLE_PARTS = re.compile(
    r"\]\s*[A-Za-z_:][A-Za-z0-9_:]*(?:\s+\((?P<severity>[A-Za-z]+)\))?(?:\s+on\s+(?P<instance>\S+))?"
    r"(?:\s+tool\s+(?P<tool>\S+))?(?:\s+agent\s+(?P<agent>\S+))?"
)


def _title_labels(title: str | None) -> dict[str, str]:
    """Labels a rendered title shows (severity, instance, tool, agent), if it follows the
    bundle's title template; empty otherwise."""
    match = _TITLE_PARTS.search(title or "")
    return {k: v for k, v in match.groupdict().items() if v} if match else {}


def _flatten(value: Any) -> str:
    """All strings inside a JSON value, one per line (to search rendered details)."""
    if isinstance(value, dict):
        return "\n".join(_flatten(v) for v in value.values())
    if isinstance(value, list):
        return "\n".join(_flatten(v) for v in value)
    return value if isinstance(value, str) else ""


def _detail(details: Any, key: str) -> str | None:
    value = details.get(key) if isinstance(details, dict) else None
    return value if isinstance(value, str) and value else None


def parse_pagerduty(body: Any, known: dict[str, list[str]] | None = None) -> Delivery:
    """PagerDuty Events v2. ``known`` maps dedup keys to alert names seen on trigger,
    so a resolve whose text names no alert still gets its names."""
    action = _require(body, "event_action", str, "pagerduty event")
    if action not in ("trigger", "resolve", "acknowledge"):
        raise PayloadError(f"pagerduty event: unknown event_action {action!r}")
    dedup_key = _require(body, "dedup_key", str, "pagerduty event")
    payload = body.get("payload") or {}
    if not isinstance(payload, dict):
        raise PayloadError("pagerduty event: field 'payload' must be an object")
    if action == "trigger":
        _require(payload, "summary", str, "pagerduty payload")
    summary = payload.get("summary")
    details = payload.get("custom_details")
    names = _names_from_text(_flatten(details), summary)
    if not names and known:
        names = list(known.get(dedup_key, []))
    labels = {**_title_labels(summary), **_labels_from_text(_flatten(details))}
    return Delivery(
        kind="pagerduty",
        receiver="pagerduty",
        alertnames=names,
        status="firing" if action == "trigger" else "resolved",
        # The alert's own severity label when the details show it; else PagerDuty's field.
        severity=labels.get("severity") or payload.get("severity"),
        title=summary,
        # The bundle's details carry the rendered text and summary as fields of their own.
        text=_detail(details, "description") or _flatten(details) or None,
        description=_detail(details, "summary") or summary,
        labels=labels,
        group_key=dedup_key,
        raw=body,
    )


def parse_slack(body: Any, channel: str) -> Delivery:
    """Slack incoming-webhook message with one or more attachments."""
    attachments = _require(body, "attachments", list, "slack message")
    if not attachments or not all(isinstance(a, dict) for a in attachments):
        raise PayloadError("slack message: 'attachments' must be a non-empty list of objects")
    first = attachments[0]
    title, text = first.get("title"), first.get("text")
    fallback, pretext = first.get("fallback"), first.get("pretext")
    subject = _SUBJECT.search(title or fallback or "")
    if subject:
        status: Status = "resolved" if subject.group(1) == "RESOLVED" else "firing"
    else:
        status = "resolved" if first.get("color") == "good" else "firing"
    fields = {
        str(f.get("title")): str(f.get("value"))
        for f in first.get("fields") or []
        if isinstance(f, dict) and f.get("title")
    }
    labels = {**_title_labels(title or fallback), **_labels_from_text(_flatten(body)), **fields}
    severity = labels.get("severity") or _label_in_text("severity", text)
    return Delivery(
        kind="slack",
        receiver=channel,
        alertnames=_names_from_text(title, text, fallback, pretext),
        status=status,
        severity=severity,
        title=title,
        text=text,
        description=pretext or fallback,
        labels=labels,
        raw=body,
    )


def _label_in_text(label: str, text: str | None) -> str | None:
    if not text:
        return None
    found = re.search(rf"\b{label}\s*[=:]\s*\"?([A-Za-z0-9_-]+)", text)
    return found.group(1) if found else None


def parse_webhook(body: Any, name: str) -> Delivery:
    """Alertmanager webhook JSON, version 4."""
    alerts = _require(body, "alerts", list, "webhook message")
    status = _require(body, "status", str, "webhook message")
    if status not in ("firing", "resolved"):
        raise PayloadError(f"webhook message: unknown status {status!r}")
    names: list[str] = []
    for i, alert in enumerate(alerts):
        labels = _require(alert, "labels", dict, f"webhook alerts[{i}]")
        alertname = labels.get("alertname")
        if isinstance(alertname, str) and alertname not in names:
            names.append(alertname)
    common = body.get("commonLabels") or {}
    annotations = body.get("commonAnnotations") or {}
    return Delivery(
        kind="webhook",
        receiver=name,
        alertnames=names,
        status="firing" if status == "firing" else "resolved",
        severity=common.get("severity"),
        title=annotations.get("summary"),
        text=None,
        description=annotations.get("description"),
        labels={k: str(v) for k, v in common.items()},
        group_key=body.get("groupKey"),
        raw=body,
    )
