"""Watch every hop at once: one background thread polls Prometheus' alerts, Alertmanager's
alerts and the receiver's deliveries, and keeps the latest :class:`Snapshot`.

Concurrent drills share the one poller instead of each hammering three APIs, which matters
on a two-core machine that also runs the whole stack. Times are wall-clock seconds
(``time.time()``), the clock Prometheus' ``activeAt`` and the receiver's ``received_at``
use too.

Usage::

    with Observer(prometheus, alertmanager, receiver) as obs:
        snap = obs.wait_for(lambda s: s.prom_alert(ref) is not None, 30, "pending")
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from stack.clients import AlertmanagerClient, ApiError, PrometheusClient, ReceiverClient

__all__ = ["Observer", "Snapshot", "delivery_path", "delivery_text", "parse_time"]

T = TypeVar("T")
_FRACTION = re.compile(r"(\.\d{6})\d+")
_SPACE = re.compile(r"\s+")


def parse_time(text: str) -> float:
    """RFC 3339 with up to nanoseconds (as Go writes it) -> unix seconds."""
    trimmed = _FRACTION.sub(r"\1", text.replace("Z", "+00:00"))
    return datetime.fromisoformat(trimmed).timestamp()


def delivery_path(delivery: dict[str, Any]) -> str:
    """``pagerduty``, ``slack/<channel>`` or ``webhook/<name>``, as scenarios spell receivers."""
    kind = str(delivery.get("kind"))
    return "pagerduty" if kind == "pagerduty" else f"{kind}/{delivery.get('receiver')}"


def delivery_text(delivery: dict[str, Any]) -> str:
    """Everything a human would read in a notification, whitespace-normalised (the raw
    payload included, since a webhook carries its annotations there)."""
    parts = [str(delivery.get(k) or "") for k in ("title", "text", "description")]
    parts += [str(v) for v in (delivery.get("labels") or {}).values()]
    parts.append(_flatten(delivery.get("raw")))
    return _SPACE.sub(" ", " ".join(parts))


def _flatten(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(_flatten(v) for v in value.values())
    if isinstance(value, list):
        return " ".join(_flatten(v) for v in value)
    return str(value) if value is not None else ""


def normalise(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class Snapshot:
    """What every hop showed at ``at``; a hop that could not be read is ``None`` with the
    reason in ``errors``."""

    at: float
    prometheus: list[dict[str, Any]] | None
    alertmanager: list[dict[str, Any]] | None
    errors: dict[str, str] = field(default_factory=dict)

    def prom_alerts(self, match: Callable[[dict[str, str]], bool]) -> list[dict[str, Any]]:
        return [a for a in self.prometheus or [] if match(a["labels"])]

    def am_alerts(self, match: Callable[[dict[str, str]], bool]) -> list[dict[str, Any]]:
        return [a for a in self.alertmanager or [] if match(a["labels"])]


class Observer:
    """The shared poller; a context manager that starts and stops its thread."""

    def __init__(
        self,
        prometheus: PrometheusClient,
        alertmanager: AlertmanagerClient,
        receiver: ReceiverClient,
        interval: float = 0.2,
    ) -> None:
        self.prometheus, self.alertmanager, self.receiver = prometheus, alertmanager, receiver
        self.interval = interval
        self._cond = threading.Condition()
        self._snapshot = Snapshot(0.0, None, None, {"all": "not polled yet"})
        self._deliveries: dict[str, dict[str, Any]] = {}
        self._since: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="drill-observer", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        self.wait_for(lambda s: s.at > 0, 10, "first poll of Prometheus, Alertmanager and the receiver")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(5)

    # --- polling -----------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.poll()
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def poll(self) -> Snapshot:
        """Read every hop once and publish the snapshot (the thread calls this)."""
        errors: dict[str, str] = {}
        prom = self._read("prometheus", self.prometheus.alerts, errors)
        am = self._read("alertmanager", self.alertmanager.alerts, errors)
        fresh = self._read("receiver", self._new_deliveries, errors)
        with self._cond:
            for d in fresh or []:
                self._deliveries[str(d["id"])] = d
            self._snapshot = Snapshot(time.time(), prom, am, errors)
            self._cond.notify_all()
            return self._snapshot

    @staticmethod
    def _read(name: str, call: Callable[[], T], errors: dict[str, str]) -> T | None:
        try:
            return call()
        except (httpx.HTTPError, ApiError, ValueError, KeyError) as exc:
            errors[name] = f"{type(exc).__name__}: {exc}"
            return None

    def _new_deliveries(self) -> list[dict[str, Any]]:
        # A millisecond of overlap: float rounding must never skip a delivery.
        found = self.receiver.deliveries(since=None if self._since is None else self._since - 0.001)
        if found:
            # `since` is inclusive, so the newest delivery comes again next time; ids dedupe it.
            self._since = max(parse_time(str(d["received_at"])) for d in found)
        return found

    # --- reading -----------------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot:
        with self._cond:
            return self._snapshot

    def deliveries(self, since: float = 0.0) -> list[dict[str, Any]]:
        """Every delivery received at or after ``since`` (unix seconds), oldest first."""
        with self._cond:
            items = list(self._deliveries.values())
        found = [d for d in items if parse_time(str(d["received_at"])) >= since]
        return sorted(found, key=lambda d: str(d["received_at"]))

    def wait_for(self, check: Callable[[Snapshot], T | None], timeout: float, what: str) -> T:
        """Block until ``check(snapshot)`` returns something other than None."""
        deadline = time.monotonic() + timeout
        last_at = -1.0
        with self._cond:
            while True:
                if self._snapshot.at != last_at:
                    last_at = self._snapshot.at
                    result = check(self._snapshot)
                    if result is not None:
                        return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{what} never happened within {timeout:g} s")
                self._cond.wait(min(remaining, 1.0))

    def next_snapshot(self, after: float, timeout: float = 5.0) -> Snapshot:
        """The first snapshot taken after ``after`` (blocks for the next poll)."""
        return self.wait_for(lambda s: s if s.at > after else None, timeout, "a fresh poll")
