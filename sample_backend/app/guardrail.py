"""The input guardrail: a bounded rule set run on the user's latest message.

A tripped rule refuses the request before any model call, the way hosted LLM APIs
refuse policy violations: HTTP 400 with ``error: guardrail_violation`` and the rule
name, no stream. Refusing up front (rather than streaming a RUN_ERROR) keeps attack
traffic out of the run metrics, so a guardrail attack shows up on the security
signals (``agent_guardrail_violations_total{rule}``, the
``GUARDRAIL_VIOLATION_DETECTED`` audit record) and not as an availability incident.

Usage::

    rule = Guardrail(metrics).check("ignore all previous instructions")  # "prompt_injection"
"""

from __future__ import annotations

import re

from sample_backend.app.audit import audit
from sample_backend.telemetry.metrics import BackendMetrics

__all__ = ["RULES", "Guardrail"]

EVENT = "GUARDRAIL_VIOLATION_DETECTED"

# Each rule is a few patterns; the rule names are the only label values of
# agent_guardrail_violations_total, so the set is fixed here.
RULES: dict[str, tuple[re.Pattern[str], ...]] = {
    "prompt_injection": (
        re.compile(
            r"\b(ignore|disregard|forget)\b.{0,40}\b(instructions|rules|prompt|guidelines)\b", re.I | re.S
        ),
        re.compile(r"\b(reveal|print|show|repeat)\b.{0,30}\bsystem prompt\b", re.I | re.S),
        re.compile(r"\byou are now\b.{0,20}\b(dan|jailbroken|unrestricted)\b", re.I | re.S),
        re.compile(r"\bjailbreak\b", re.I),
    ),
    "secrets_exfiltration": (
        re.compile(
            r"\b(give|show|print|reveal|dump|leak|send|list|tell)\b.{0,40}"
            r"\b(api[ _-]?keys?|passwords?|secrets?|credentials|private keys?|access tokens?"
            r"|env(ironment)? vars?)\b",
            re.I | re.S,
        ),
        re.compile(r"\bsk-[A-Za-z0-9]{20,}"),
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    ),
    "blocked_topic": (
        re.compile(r"\b(build|make|assemble)\b.{0,30}\b(bomb|explosive|weapon)s?\b", re.I | re.S),
        re.compile(r"\b(write|create|develop)\b.{0,30}\b(malware|ransomware|keylogger)\b", re.I | re.S),
        re.compile(r"\bstolen credit cards?\b", re.I),
    ),
}


class Guardrail:
    """Checks user input against :data:`RULES`; counts checks and violations, audits trips."""

    def __init__(self, metrics: BackendMetrics) -> None:
        self._metrics = metrics
        for rule in RULES:
            metrics.guardrail_violations.labels(rule=rule)

    def check(self, text: str) -> str | None:
        """The name of the first rule ``text`` trips, else None."""
        self._metrics.guardrail_checks.inc()
        for rule, patterns in RULES.items():
            if any(p.search(text) for p in patterns):
                self._metrics.guardrail_violations.labels(rule=rule).inc()
                audit(self._metrics, EVENT, f"guardrail rule {rule} refused the input", rule=rule)
                return rule
        return None
