"""Client of the notification receiver's JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from stack.clients._base import BaseClient, poll

__all__ = ["ReceiverClient"]


class ReceiverClient(BaseClient):
    """``ReceiverClient("http://127.0.0.1:8300").wait_delivery("BackendDown", receiver="pagerduty")``"""

    def deliveries(
        self,
        receiver: str | None = None,
        alertname: str | None = None,
        status: str | None = None,
        kind: str | None = None,
        since: datetime | float | None = None,
    ) -> list[dict[str, Any]]:
        given = {"receiver": receiver, "alertname": alertname, "status": status, "kind": kind}
        params = {key: value for key, value in given.items() if value is not None}
        if since is not None:
            params["since"] = since.isoformat() if isinstance(since, datetime) else str(since)
        found: list[dict[str, Any]] = self._json("GET", "/api/deliveries", params=params)["deliveries"]
        return found

    def reset(self) -> None:
        self._check(self.http.delete("/api/deliveries"))

    def rejected(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._json("GET", "/api/rejected")["rejected"]
        return found

    def fail(self, status: int = 503, seconds: float = 10) -> dict[str, Any]:
        """Answer ``status`` to every delivery for ``seconds``."""
        state: dict[str, Any] = self._json("PUT", "/api/failure", json={"status": status, "seconds": seconds})
        return state

    def recover(self) -> dict[str, Any]:
        state: dict[str, Any] = self._json("DELETE", "/api/failure")
        return state

    def failure(self) -> dict[str, Any]:
        """``active``, ``status``, ``remaining_seconds``, ``failed_attempts``."""
        state: dict[str, Any] = self._json("GET", "/api/failure")
        return state

    def wait_delivery(
        self,
        alertname: str,
        receiver: str | None = None,
        status: str = "firing",
        since: datetime | float | None = None,
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        """The first matching delivery; the timeout names what did arrive instead."""

        def probe() -> tuple[bool, Any]:
            found = self.deliveries(receiver=receiver, alertname=alertname, status=status, since=since)
            if found:
                return True, found[0]
            seen = [
                f"{d['kind']}/{d['receiver']} {d['status']} {','.join(d['alertnames'])}"
                for d in self.deliveries(since=since)
            ]
            return False, seen or "no deliveries at all"

        where = f" at {receiver}" if receiver else ""
        found: dict[str, Any] = poll(probe, f"{status} notification of {alertname}{where}", timeout)
        return found
