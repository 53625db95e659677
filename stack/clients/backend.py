"""Client of a sample backend's fault API (``/admin/faults``, Bearer admin token)."""

from __future__ import annotations

from typing import Any

from stack.clients._base import BaseClient

__all__ = ["BackendAdmin"]


class BackendAdmin(BaseClient):
    """``BackendAdmin("http://127.0.0.1:8001", "dev-admin-token").set("http_5xx", rate=0.5)``"""

    def __init__(self, base_url: str, token: str, timeout: float = 5.0) -> None:
        super().__init__(base_url, timeout, headers={"Authorization": f"Bearer {token}"})

    def faults(self) -> list[dict[str, Any]]:
        """Every fault and traffic mode with ``active`` and ``params``."""
        found: list[dict[str, Any]] = self._json("GET", "/admin/faults")["faults"]
        return found

    def active(self) -> dict[str, dict[str, Any]]:
        return {f["name"]: f["params"] for f in self.faults() if f["active"]}

    def set(self, name: str, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._json("PUT", f"/admin/faults/{name}", json=params)
        return result

    def clear(self, name: str) -> None:
        self._check(self.http.delete(f"/admin/faults/{name}"), 200, 204)

    def clear_all(self) -> None:
        self._check(self.http.delete("/admin/faults"), 200, 204)

    def ready(self) -> bool:
        return self.healthy("/readiness")
