"""Prometheus HTTP API client: targets, discovered Alertmanagers, queries, alerts, rules."""

from __future__ import annotations

from typing import Any

from stack.clients._base import ApiError, BaseClient, poll

__all__ = ["PrometheusClient"]


def _labels_match(labels: dict[str, str], want: dict[str, str] | None) -> bool:
    return all(labels.get(k) == v for k, v in (want or {}).items())


class PrometheusClient(BaseClient):
    """``PrometheusClient("http://127.0.0.1:9090").wait_alert("BackendDown", "firing", timeout=30)``"""

    def _data(self, method: str, path: str, **kwargs: Any) -> Any:
        body = self._json(method, path, **kwargs)
        if body.get("status") != "success":
            raise ApiError(f"{path}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def ready(self) -> bool:
        return self.healthy("/-/ready")

    def build_version(self) -> str:
        """The version Prometheus reports of itself (``3.5.3+ds1`` for Debian's build)."""
        return str(self._data("GET", "/api/v1/status/buildinfo")["version"])

    def targets(self) -> list[dict[str, Any]]:
        """Active targets (``scrapePool``, ``labels``, ``health``, ``lastError``, ...)."""
        data: list[dict[str, Any]] = self._data("GET", "/api/v1/targets", params={"state": "active"})[
            "activeTargets"
        ]
        return data

    def alertmanagers(self) -> list[str]:
        """URLs of the Alertmanagers Prometheus currently sends alerts to."""
        data = self._data("GET", "/api/v1/alertmanagers")
        return [am["url"] for am in data.get("activeAlertmanagers", [])]

    def query(self, promql: str, time: float | None = None) -> list[dict[str, Any]]:
        """Instant query; the result list (``metric``, ``value``)."""
        params: dict[str, Any] = {"query": promql}
        if time is not None:
            params["time"] = time
        data = self._data("POST", "/api/v1/query", data=params)
        result: list[dict[str, Any]] = data["result"]
        return result

    def alerts(self) -> list[dict[str, Any]]:
        """Pending and firing alerts (``labels``, ``state``, ``activeAt``, ``annotations``)."""
        alerts: list[dict[str, Any]] = self._data("GET", "/api/v1/alerts")["alerts"]
        return alerts

    def alert_series(self, alertname: str | None = None) -> list[dict[str, Any]]:
        """The ``ALERTS`` series (one per pending/firing alert, label ``alertstate``)."""
        selector = f'ALERTS{{alertname="{alertname}"}}' if alertname else "ALERTS"
        return self.query(selector)

    def rules(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Rule groups; ``kind`` is ``"alert"`` or ``"record"`` to filter."""
        params = {"type": kind} if kind else None
        groups: list[dict[str, Any]] = self._data("GET", "/api/v1/rules", params=params)["groups"]
        return groups

    def reload(self, wait_alertmanagers: float | None = 15.0) -> None:
        """Re-read the configuration and rule files (needs ``--web.enable-lifecycle``).

        Prometheus 3.5 keeps its Alertmanagers across a reload of an unchanged ``alerting``
        section (measured: never an empty set, polled every 20 ms), but a changed one is
        rediscovered only on the next 5 s discovery tick, and alerts firing meanwhile are
        dropped. So by default this waits until one is known; it returns at once when kept.
        """
        self._check(self.http.post("/-/reload"))
        if wait_alertmanagers is not None:
            self.wait_alertmanager_discovered(timeout=wait_alertmanagers)

    def wait_targets_up(self, timeout: float = 30.0, expected: int | None = None) -> list[dict[str, Any]]:
        """Every active target reports ``health == "up"`` (and there are ``expected`` of them)."""

        def probe() -> tuple[bool, Any]:
            targets = self.targets()
            not_up = [
                f"{t['scrapePool']} {t['scrapeUrl']}: {t['health']} {t.get('lastError', '')}".strip()
                for t in targets
                if t["health"] != "up"
            ]
            enough = expected is None or len(targets) >= expected
            return bool(targets) and enough and not not_up, (not_up or targets)

        result: list[dict[str, Any]] = poll(probe, "every Prometheus target up", timeout, interval=0.1)
        return result

    def wait_alertmanager_discovered(self, url_part: str = "", timeout: float = 30.0) -> list[str]:
        def probe() -> tuple[bool, list[str]]:
            found = self.alertmanagers()
            return any(url_part in u for u in found), found

        return poll(probe, f"Prometheus discovering Alertmanager {url_part}".strip(), timeout)

    def wait_alert(
        self,
        alertname: str,
        state: str = "firing",
        labels: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        """The alert reaches ``state`` (``"pending"`` or ``"firing"``); returns it."""

        def probe() -> tuple[bool, Any]:
            alerts = [a for a in self.alerts() if a["labels"].get("alertname") == alertname]
            for alert in alerts:
                if alert["state"] == state and _labels_match(alert["labels"], labels):
                    return True, alert
            return False, alerts or f"no {alertname} alert"

        found: dict[str, Any] = poll(probe, f"alert {alertname} {state} in Prometheus", timeout)
        return found

    def wait_alert_gone(self, alertname: str, timeout: float = 30.0) -> None:
        def probe() -> tuple[bool, Any]:
            alerts = [a for a in self.alerts() if a["labels"].get("alertname") == alertname]
            return not alerts, alerts

        poll(probe, f"alert {alertname} gone from Prometheus", timeout)
