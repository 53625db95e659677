"""Helpers for the backend tests: a handle on a served backend, SSE and metric parsing."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from ag_ui.core import Event
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from pydantic import TypeAdapter

EVENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(Event)


def run_body(text: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "threadId": f"thread-{uuid.uuid4()}",
        "runId": f"run-{uuid.uuid4()}",
        "messages": [{"id": "m1", "role": "user", "content": text}],
        "tools": [],
        "context": [],
        "forwardedProps": {},
        "state": {},
    }
    body.update(extra)
    return body


@dataclass
class Backend:
    url: str
    app: FastAPI
    user_token: str
    admin_token: str
    # One client per backend: creating an httpx client (its TLS context) costs ~50 ms.
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=20))

    @property
    def components(self) -> Any:
        return self.app.state.components

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.user_token}"}

    def run(self, text: str, token: str | None = None, **extra: Any) -> tuple[int, list[dict[str, Any]], str]:
        """POST a run; (status, parsed SSE events validated by the AG-UI SDK, raw body)."""
        r = self.http.post(f"{self.url}/ag-ui/events", json=run_body(text, **extra), headers=self.auth(token))
        events = (
            parse_sse(r.text) if r.headers.get("content-type", "").startswith("text/event-stream") else []
        )
        return r.status_code, events, r.text

    def fault(self, name: str, **params: Any) -> None:
        r = self.http.put(f"{self.url}/admin/faults/{name}", json=params, headers=self.auth(self.admin_token))
        assert r.status_code == 200, r.text

    def metrics_text(self, openmetrics: bool = False) -> str:
        headers = {"Accept": "application/openmetrics-text; version=1.0.0"} if openmetrics else {}
        r = self.http.get(f"{self.url}/metrics", headers=headers)
        assert r.status_code == 200
        return r.text

    def samples(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        """Every sample of /metrics keyed by (name, labels)."""
        out = {}
        for family in text_string_to_metric_families(self.metrics_text()):
            for s in family.samples:
                out[(s.name, frozenset(s.labels.items()))] = s.value
        return out

    def value(self, name: str, **labels: str) -> float:
        """Sum of the samples of ``name`` whose labels include ``labels`` (0 when none)."""
        want = set(labels.items())
        return sum(v for (n, ls), v in self.samples().items() if n == name and want <= ls)


def parse_sse(text: str) -> list[dict[str, Any]]:
    """Events of an SSE body; asserts the framing (``data: {json}`` blocks) and the SDK schema."""
    assert text.endswith("\n\n"), "an SSE stream ends with a blank line"
    events = []
    for block in text.split("\n\n")[:-1]:
        assert block.startswith("data: "), f"not an SSE data line: {block[:80]!r}"
        assert "\n" not in block, "one event per data line"
        payload = json.loads(block[len("data: ") :])
        EVENT_ADAPTER.validate_python(payload)  # raises when the SDK would reject it
        events.append(payload)
    return events


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]
