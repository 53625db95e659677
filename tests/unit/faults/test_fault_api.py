"""The /admin/faults router: auth, 404 when off, 400 on bad input, state changes over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from sample_backend.faults import FAULTS, FaultRegistry, build_router
from sample_backend.telemetry.metrics import BackendMetrics
from tests.support.servers import serve

TOKEN = "test-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def metrics() -> BackendMetrics:
    return BackendMetrics(CollectorRegistry())


@pytest.fixture
def client(metrics: BackendMetrics) -> Iterator[httpx.Client]:
    registry = FaultRegistry(metrics)
    app = FastAPI()
    app.include_router(build_router(registry, TOKEN))
    with serve(app) as url, httpx.Client(base_url=url, timeout=10) as c:
        yield c
    registry.close()


def test_router_is_off_without_a_token() -> None:
    app = FastAPI()
    app.include_router(build_router(FaultRegistry(), ""))
    with serve(app) as url:
        for method in ("GET", "PUT", "DELETE"):
            assert httpx.request(method, f"{url}/admin/faults").status_code in (404, 405)
            r = httpx.request(method, f"{url}/admin/faults/http_5xx", headers={"Authorization": "Bearer x"})
            assert r.status_code == 404, method


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({}, "missing bearer token"),
        ({"Authorization": "Basic abc"}, "missing bearer token"),
        ({"Authorization": "Bearer"}, "missing bearer token"),
        ({"Authorization": "Bearer wrong"}, "invalid admin token"),
        ({"Authorization": f"Bearer {TOKEN}x"}, "invalid admin token"),
    ],
)
def test_every_route_needs_the_admin_token(client: httpx.Client, headers: dict[str, str], error: str) -> None:
    for method, path in [
        ("GET", "/admin/faults"),
        ("PUT", "/admin/faults/http_5xx"),
        ("DELETE", "/admin/faults/http_5xx"),
        ("DELETE", "/admin/faults"),
    ]:
        r = client.request(method, path, headers=headers)
        assert r.status_code == 401, (method, path)
        assert r.json()["error"] == error
        assert r.headers["www-authenticate"].startswith("Bearer")


def test_get_lists_every_fault(client: httpx.Client) -> None:
    r = client.get("/admin/faults", headers=AUTH)
    assert r.status_code == 200
    faults = r.json()["faults"]
    assert [f["name"] for f in faults] == list(FAULTS)
    assert all(set(f) == {"name", "kind", "active", "params", "parameters", "description"} for f in faults)


def test_put_delete_round_trip(client: httpx.Client, metrics: BackendMetrics) -> None:
    r = client.put("/admin/faults/tool_errors", headers=AUTH, json={"tool": "weather", "rate": 0.5})
    assert r.status_code == 200
    assert r.json()["active"] is True
    assert r.json()["params"] == {"tool": "weather", "rate": 0.5}
    assert metrics.registry.get_sample_value("agent_fault_active", {"fault": "tool_errors"}) == 1

    r = client.put("/admin/faults/db_down", headers=AUTH)  # empty body: defaults
    assert r.status_code == 200 and r.json()["active"] is True

    r = client.delete("/admin/faults/tool_errors", headers=AUTH)
    assert r.status_code == 200 and r.json()["active"] is False
    assert metrics.registry.get_sample_value("agent_fault_active", {"fault": "tool_errors"}) == 0

    r = client.delete("/admin/faults", headers=AUTH)
    assert r.status_code == 200
    assert not any(f["active"] for f in r.json()["faults"])


@pytest.mark.parametrize(
    ("method", "path", "body", "error"),
    [
        ("PUT", "/admin/faults/nope", b"{}", "unknown fault 'nope'"),
        ("DELETE", "/admin/faults/nope", b"", "unknown fault 'nope'"),
        ("PUT", "/admin/faults/http_5xx", b"{not json", "body is not valid JSON"),
        ("PUT", "/admin/faults/http_5xx", b"\xff\xfe", "body is not valid JSON"),
        ("PUT", "/admin/faults/http_5xx", b"[1, 2]", "must be a JSON object, got list"),
        ("PUT", "/admin/faults/http_5xx", b"null", "must be a JSON object, got NoneType"),
        ("PUT", "/admin/faults/http_5xx", b'{"rate": 2}', "http_5xx.rate must be in [0, 1]; got 2"),
        ("PUT", "/admin/faults/http_5xx", b'{"rate": "x"}', "http_5xx.rate must be a number, got str"),
        ("PUT", "/admin/faults/tool_errors", b'{"tool": "nope"}', "tool_errors.tool must be one of"),
        ("PUT", "/admin/faults/http_5xx", b'{"extra": 1}', "unknown parameter(s) for http_5xx: extra"),
    ],
)
def test_bad_input_is_400_with_catalog(
    client: httpx.Client, method: str, path: str, body: bytes, error: str
) -> None:
    r = client.request(method, path, headers=AUTH, content=body)
    assert r.status_code == 400
    payload = r.json()
    assert error in payload["error"]
    assert [f["name"] for f in payload["valid"]] == list(FAULTS)
    assert all("parameters" in f for f in payload["valid"])
