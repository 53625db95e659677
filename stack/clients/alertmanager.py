"""Alertmanager API v2 client: alerts (with inhibited/silenced filters), silences, status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from stack.clients._base import BaseClient, poll

__all__ = ["AlertmanagerClient"]


class AlertmanagerClient(BaseClient):
    """``AlertmanagerClient("http://127.0.0.1:9093").alerts(filters={"alertname": "X"})``"""

    def ready(self) -> bool:
        return self.healthy("/-/ready")

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = self._json("GET", "/api/v2/status")
        return result

    def version(self) -> str:
        """The version Alertmanager reports of itself."""
        return str(self.status()["versionInfo"]["version"])

    def alerts(
        self,
        filters: dict[str, str] | None = None,
        *,
        active: bool = True,
        silenced: bool = True,
        inhibited: bool = True,
        unprocessed: bool = True,
        receiver: str | None = None,
    ) -> list[dict[str, Any]]:
        """Alerts as ``/api/v2/alerts`` lists them; each has ``status.state``
        (active/suppressed) and ``status.inhibitedBy`` / ``status.silencedBy``."""
        params: list[tuple[str, str]] = [
            ("active", str(active).lower()),
            ("silenced", str(silenced).lower()),
            ("inhibited", str(inhibited).lower()),
            ("unprocessed", str(unprocessed).lower()),
        ]
        params += [("filter", f'{k}="{v}"') for k, v in (filters or {}).items()]
        if receiver:
            params.append(("receiver", receiver))
        result: list[dict[str, Any]] = self._json("GET", "/api/v2/alerts", params=params)
        return result

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """Send alerts directly (as Prometheus does); for tests of routing."""
        self._check(self.http.post("/api/v2/alerts", json=alerts))

    def silences(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._json("GET", "/api/v2/silences")
        return result

    def create_silence(
        self,
        matchers: dict[str, str],
        seconds: float = 3600,
        created_by: str = "stack",
        comment: str = "silenced by the stack tooling",
    ) -> str:
        """Silence alerts whose labels equal ``matchers``; returns the silence id."""
        now = datetime.now(UTC)
        body = {
            "matchers": [
                {"name": k, "value": v, "isRegex": False, "isEqual": True} for k, v in matchers.items()
            ],
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(seconds=seconds)).isoformat(),
            "createdBy": created_by,
            "comment": comment,
        }
        silence_id: str = self._json("POST", "/api/v2/silences", json=body)["silenceID"]
        return silence_id

    def delete_silence(self, silence_id: str) -> None:
        self._check(self.http.delete(f"/api/v2/silence/{silence_id}"))

    def wait_alert(
        self,
        alertname: str,
        *,
        inhibited: bool | None = None,
        labels: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        """The alert is in Alertmanager; with ``inhibited`` set, also in that state."""
        filters = {"alertname": alertname, **(labels or {})}

        def probe() -> tuple[bool, Any]:
            alerts = self.alerts(filters)
            for alert in alerts:
                is_inhibited = bool(alert["status"].get("inhibitedBy"))
                if inhibited is None or inhibited == is_inhibited:
                    return True, alert
            return False, alerts or f"no {alertname} alert"

        what = f"alert {alertname} {'inhibited ' if inhibited else ''}in Alertmanager"
        found: dict[str, Any] = poll(probe, what, timeout)
        return found
