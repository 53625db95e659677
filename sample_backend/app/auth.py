"""Bearer-token authentication: the gateway check every AG-UI request passes first.

Tokens map to roles (``user``, ``admin``) from ``BACKEND_AUTH_TOKENS``. Every check,
passed or failed, writes an ``AUTH_GATEWAY_VALIDATION`` audit record and counts
``agent_auth_validations_total{outcome}`` (success, missing, invalid), which is what
the auth-failure-spike alert watches.

Usage::

    auth = Authenticator({"t": "user"}, metrics)
    principal = auth.authenticate("Bearer t", client="127.0.0.1")   # or AuthError
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from sample_backend.app.audit import audit
from sample_backend.telemetry.metrics import BackendMetrics

__all__ = ["AuthError", "Authenticator", "Principal"]

EVENT = "AUTH_GATEWAY_VALIDATION"


@dataclass(frozen=True)
class Principal:
    """Who is calling: only the role matters to the agent (RBAC on tools)."""

    role: str


class AuthError(Exception):
    """The request carries no usable bearer token; ``outcome`` is missing or invalid."""

    def __init__(self, outcome: str, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome


class Authenticator:
    """Validates ``Authorization: Bearer <token>`` against the configured tokens."""

    def __init__(self, tokens: dict[str, str], metrics: BackendMetrics) -> None:
        self._tokens = [(token.encode(), role) for token, role in tokens.items()]
        self._metrics = metrics
        for outcome in ("success", "missing", "invalid"):
            metrics.auth_validations.labels(outcome=outcome)

    def authenticate(self, authorization: str | None, client: str) -> Principal:
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            self._record("missing", client, None)
            raise AuthError("missing", "send Authorization: Bearer <token>")
        role = self._role(token.encode())
        if role is None:
            self._record("invalid", client, None)
            raise AuthError("invalid", "the bearer token is not valid")
        self._record("success", client, role)
        return Principal(role=role)

    def _role(self, token: bytes) -> str | None:
        # Compare against every token in constant time so timing reveals nothing.
        found = None
        for known, role in self._tokens:
            if hmac.compare_digest(token, known):
                found = role
        return found

    def _record(self, outcome: str, client: str, role: str | None) -> None:
        self._metrics.auth_validations.labels(outcome=outcome).inc()
        audit(
            self._metrics,
            EVENT,
            f"bearer token validation: {outcome}",
            outcome=outcome,
            client=client,
            role=role or "",
        )
