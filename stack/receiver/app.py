"""The notification receiver's HTTP app: delivery endpoints plus a JSON query API.

Delivery endpoints (what Alertmanager posts to):

- ``POST /pagerduty/v2/enqueue`` -> 202 ``{"status": "success", "dedup_key": ...}`` like PagerDuty
- ``POST /slack/{channel}`` -> 200 ``ok`` like Slack
- ``POST /webhook/{name}`` -> 200 ``{"status": "ok"}``

Query API: ``GET /api/deliveries?receiver=&alertname=&status=&kind=&since=``,
``DELETE /api/deliveries``, ``GET /api/rejected``, ``GET|PUT|DELETE /api/failure``,
plus ``/health`` and ``/metrics``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest

from stack.receiver.parse import Delivery, PayloadError, parse_pagerduty, parse_slack, parse_webhook
from stack.receiver.settings import ReceiverSettings
from stack.receiver.store import DeliveryFilter, DeliveryStore

__all__ = ["create_app"]

log = logging.getLogger("stack.receiver")

_FILTERS = ("receiver", "alertname", "status", "kind", "since")


def _error(status: int, error: str, detail: Any = None) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status)


def parse_since(value: str) -> datetime:
    """RFC 3339 (``2026-01-01T00:00:00Z``) or unix seconds (``1767225600.5``)."""
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (ValueError, OverflowError, OSError):
        pass
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class _Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.deliveries = Counter(
            "receiver_deliveries", "Notifications accepted.", ["kind", "status"], registry=self.registry
        )
        self.rejected = Counter(
            "receiver_rejected", "Notifications refused as malformed.", registry=self.registry
        )
        self.failed = Counter(
            "receiver_failed_attempts",
            "Notifications answered with an error because failure mode was on.",
            registry=self.registry,
        )


def create_app(settings: ReceiverSettings | None = None) -> FastAPI:
    """The receiver app; state lives in ``app.state.store``.

    ``uvicorn.run(create_app(ReceiverSettings(port=8300)))``
    """
    settings = settings or ReceiverSettings()
    store = DeliveryStore(settings.data_dir)
    metrics = _Metrics()
    app = FastAPI(title="Notification receiver", docs_url=None, redoc_url=None)
    app.state.store = store

    async def accept(request: Request, parse: Callable[[Any], Delivery]) -> Delivery | Response:
        failing = store.failure.active_status()
        if failing is not None:
            store.count_failed_attempt()
            metrics.failed.inc()
            log.warning("failure mode: answered %s to %s", failing, request.url.path)
            return _error(failing, "failure mode", "the receiver was told to fail")
        raw = await request.body()
        try:
            body = json.loads(raw)
            delivery = parse(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return _reject(request.url.path, f"body is not JSON: {exc}", raw)
        except PayloadError as exc:
            return _reject(request.url.path, str(exc), raw)
        store.add(delivery)
        metrics.deliveries.labels(kind=delivery.kind, status=delivery.status).inc()
        log.info(
            "delivery %s %s/%s %s %s",
            delivery.id,
            delivery.kind,
            delivery.receiver,
            delivery.status,
            ",".join(delivery.alertnames),
        )
        return delivery

    def _reject(path: str, error: str, raw: bytes) -> JSONResponse:
        store.reject(path, error, raw)
        metrics.rejected.inc()
        log.warning("rejected malformed delivery to %s: %s", path, error)
        return _error(400, "malformed delivery", error)

    @app.post("/pagerduty/v2/enqueue")
    async def pagerduty(request: Request) -> Response:
        result = await accept(request, lambda b: parse_pagerduty(b, store.known_dedup_keys))
        if isinstance(result, Response):
            return result
        return JSONResponse(
            {"status": "success", "message": "Event processed", "dedup_key": result.group_key},
            status_code=202,
        )

    @app.post("/slack/{channel}")
    async def slack(channel: str, request: Request) -> Response:
        result = await accept(request, lambda b: parse_slack(b, channel))
        return result if isinstance(result, Response) else PlainTextResponse("ok")

    @app.post("/webhook/{name}")
    async def webhook(name: str, request: Request) -> Response:
        result = await accept(request, lambda b: parse_webhook(b, name))
        return result if isinstance(result, Response) else JSONResponse({"status": "ok", "id": result.id})

    @app.get("/api/deliveries")
    async def deliveries(request: Request) -> Response:
        params = dict(request.query_params)
        unknown = sorted(set(params) - set(_FILTERS))
        if unknown:
            valid = ", ".join(_FILTERS)
            return _error(400, "unknown filter", f"{', '.join(unknown)}; valid filters: {valid}")
        status = params.get("status")
        if status not in (None, "firing", "resolved"):
            return _error(400, "invalid filter", f"status: {status!r} is not 'firing' or 'resolved'")
        kind = params.get("kind")
        if kind not in (None, "pagerduty", "slack", "webhook"):
            return _error(400, "invalid filter", f"kind: {kind!r} is not pagerduty, slack or webhook")
        since = None
        if "since" in params:
            try:
                since = parse_since(params["since"])
            except ValueError:
                return _error(
                    400, "invalid filter", f"since: {params['since']!r} is not RFC 3339 or unix seconds"
                )
        where = DeliveryFilter(params.get("receiver"), params.get("alertname"), status, kind, since)
        found = store.deliveries(where)
        return JSONResponse({"count": len(found), "deliveries": [d.model_dump(mode="json") for d in found]})

    @app.delete("/api/deliveries")
    async def reset() -> dict[str, str]:
        store.reset()
        return {"status": "reset"}

    @app.get("/api/rejected")
    async def rejected() -> dict[str, Any]:
        items = store.rejected()
        return {"count": len(items), "rejected": [r.as_json() for r in items]}

    @app.get("/api/failure")
    async def failure() -> dict[str, Any]:
        return store.failure.as_json()

    @app.put("/api/failure")
    async def set_failure(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "invalid failure mode", 'body must be JSON {"status": 503, "seconds": 10}')
        if not isinstance(body, dict):
            return _error(400, "invalid failure mode", 'body must be a JSON object {"status", "seconds"}')
        status, seconds = body.get("status", 503), body.get("seconds")
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            return _error(400, "invalid failure mode", f"status: {status!r} must be an HTTP error 400..599")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
            return _error(400, "invalid failure mode", f"seconds: {seconds!r} must be a positive number")
        store.fail_for(status, float(seconds))
        log.warning("failure mode on: %s for %s s", status, seconds)
        return JSONResponse(store.failure.as_json())

    @app.delete("/api/failure")
    async def clear_failure() -> dict[str, Any]:
        store.stop_failing()
        return store.failure.as_json()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics")
    async def metrics_endpoint() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
