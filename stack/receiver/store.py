"""What the receiver keeps: deliveries, rejected payloads and the failure switch.

Deliveries live in memory for the query API and are appended, one JSON object per
line, to ``deliveries.jsonl`` in the data directory so a run can be inspected after the
process is gone. Rejected payloads are kept too (``rejected.jsonl``): a malformed
notification is a finding, never something to drop.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stack.receiver.parse import Delivery

__all__ = ["DeliveryFilter", "DeliveryStore", "FailureMode", "Rejection"]


@dataclass(frozen=True)
class DeliveryFilter:
    """Query-string filters of ``GET /api/deliveries``; ``None`` matches anything."""

    receiver: str | None = None
    alertname: str | None = None
    status: str | None = None
    kind: str | None = None
    since: datetime | None = None

    def matches(self, d: Delivery) -> bool:
        return (
            (self.receiver is None or self.receiver in (d.receiver, f"{d.kind}/{d.receiver}", d.kind))
            and (self.alertname is None or self.alertname in d.alertnames)
            and (self.status is None or self.status == d.status)
            and (self.kind is None or self.kind == d.kind)
            and (self.since is None or d.received_at >= self.since)
        )


@dataclass(frozen=True)
class Rejection:
    received_at: datetime
    path: str
    error: str
    body: str

    def as_json(self) -> dict[str, Any]:
        return {
            "received_at": self.received_at.isoformat(),
            "path": self.path,
            "error": self.error,
            "body": self.body,
        }


@dataclass
class FailureMode:
    """While active, delivery endpoints answer ``status`` instead of accepting."""

    status: int = 0
    until_monotonic: float = 0.0
    failed_attempts: int = 0

    def active_status(self) -> int | None:
        return self.status if self.status and time.monotonic() < self.until_monotonic else None

    def as_json(self) -> dict[str, Any]:
        remaining = max(0.0, self.until_monotonic - time.monotonic()) if self.status else 0.0
        return {
            "active": self.active_status() is not None,
            "status": self.status or None,
            "remaining_seconds": round(remaining, 3),
            "failed_attempts": self.failed_attempts,
        }


class DeliveryStore:
    """Thread-safe store; ``data_dir=None`` keeps everything in memory only.

    ``store = DeliveryStore(Path(".stack/receiver")); store.add(delivery)``
    """

    def __init__(self, data_dir: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self._rejected: list[Rejection] = []
        # PagerDuty resolves may carry no alert names; remember them from the trigger.
        self.known_dedup_keys: dict[str, list[str]] = {}
        self.failure = FailureMode()
        self._data_dir = data_dir
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)

    def _append(self, name: str, record: dict[str, Any]) -> None:
        if self._data_dir is not None:
            with (self._data_dir / name).open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(record, default=str) + "\n")

    def add(self, delivery: Delivery) -> None:
        with self._lock:
            self._deliveries.append(delivery)
            if delivery.group_key and delivery.alertnames:
                self.known_dedup_keys[delivery.group_key] = delivery.alertnames
            self._append("deliveries.jsonl", delivery.model_dump(mode="json"))

    def reject(self, path: str, error: str, body: bytes) -> Rejection:
        rejection = Rejection(datetime.now(UTC), path, error, body.decode("utf-8", "replace")[:4096])
        with self._lock:
            self._rejected.append(rejection)
            self._append("rejected.jsonl", rejection.as_json())
        return rejection

    def deliveries(self, where: DeliveryFilter | None = None) -> list[Delivery]:
        with self._lock:
            items = list(self._deliveries)
        return [d for d in items if where is None or where.matches(d)]

    def rejected(self) -> list[Rejection]:
        with self._lock:
            return list(self._rejected)

    def reset(self) -> None:
        """Forget deliveries, rejections and failed attempts (the files keep history)."""
        with self._lock:
            self._deliveries.clear()
            self._rejected.clear()
            self.known_dedup_keys.clear()
            self.failure.failed_attempts = 0
            self._append("deliveries.jsonl", {"reset_at": datetime.now(UTC).isoformat()})

    def fail_for(self, status: int, seconds: float) -> None:
        with self._lock:
            self.failure.status = status
            self.failure.until_monotonic = time.monotonic() + seconds

    def stop_failing(self) -> None:
        with self._lock:
            self.failure.status = 0
            self.failure.until_monotonic = 0.0

    def count_failed_attempt(self) -> None:
        with self._lock:
            self.failure.failed_attempts += 1
