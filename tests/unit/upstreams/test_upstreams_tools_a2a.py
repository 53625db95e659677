"""Tool API, A2A peers, simulation headers, health and metrics of the simulated upstreams."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from sample_backend.upstreams.app import ROUTES, create_app

CRM_KEY = "test-crm-key"  # what conftest configures
CRM = {"Authorization": f"Bearer {CRM_KEY}"}


def send(url: str, agent: str, body: Any) -> httpx.Response:
    return httpx.post(f"{url}/a2a/{agent}", json=body)


def message(text: str = "Research vector databases") -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": "req-1",
        "method": "message/send",
        "params": {
            "message": {
                "kind": "message",
                "messageId": "m-1",
                "role": "user",
                "contextId": "ctx-1",
                "parts": [{"kind": "text", "text": text}],
            }
        },
    }


def test_weather_and_search(upstreams_url: str) -> None:
    w = httpx.get(f"{upstreams_url}/tools/weather", params={"city": "Paris"})
    assert w.status_code == 200
    assert w.json()["city"] == "Paris" and isinstance(w.json()["temperature_c"], float)
    assert httpx.get(f"{upstreams_url}/tools/weather", params={"city": "Paris"}).json() == w.json()
    s = httpx.get(f"{upstreams_url}/tools/search", params={"q": "budgets"})
    assert s.status_code == 200
    assert len(s.json()["results"]) == 3


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/tools/weather", "query parameter 'city' is required"),
        ("/tools/weather?city=", "query parameter 'city' is required"),
        ("/tools/search", "query parameter 'q' is required"),
        (f"/tools/search?q={'x' * 501}", "query parameter 'q' is required (1..500"),
    ],
)
def test_tools_bad_input_is_400(upstreams_url: str, path: str, error: str) -> None:
    r = httpx.get(f"{upstreams_url}{path}")
    assert r.status_code == 400
    assert error in r.json()["error"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": CRM_KEY}])
def test_crm_needs_the_api_key(upstreams_url: str, headers: dict[str, str]) -> None:
    r = httpx.get(f"{upstreams_url}/tools/crm/customers/42", headers=headers)
    assert r.status_code == 401
    assert r.json()["error"] == "missing or invalid CRM API key"


def test_crm_lookup(upstreams_url: str) -> None:
    r = httpx.get(f"{upstreams_url}/tools/crm/customers/42", headers=CRM)
    assert r.status_code == 200
    assert r.json()["id"] == "42" and r.json()["tier"] in ("free", "pro", "enterprise")
    bad = httpx.get(f"{upstreams_url}/tools/crm/customers/a%20b", headers=CRM)
    assert bad.status_code == 400


@pytest.mark.parametrize("agent", ["research-agent", "billing-agent"])
def test_a2a_message_send(upstreams_url: str, agent: str) -> None:
    r = send(upstreams_url, agent, message())
    assert r.status_code == 200
    body = r.json()
    assert body["jsonrpc"] == "2.0" and body["id"] == "req-1"
    result = body["result"]
    assert result["kind"] == "message" and result["role"] == "agent"
    assert result["contextId"] == "ctx-1"
    assert result["messageId"]
    assert result["parts"][0]["kind"] == "text" and result["parts"][0]["text"]


@pytest.mark.parametrize("agent", ["research-agent", "billing-agent"])
def test_agent_card(upstreams_url: str, agent: str) -> None:
    r = httpx.get(f"{upstreams_url}/a2a/{agent}/.well-known/agent-card.json")
    assert r.status_code == 200
    card = r.json()
    required = {
        "protocolVersion",
        "name",
        "description",
        "url",
        "version",
        "capabilities",
        "skills",
        "defaultInputModes",
        "defaultOutputModes",
        "preferredTransport",
    }
    assert required <= set(card)
    assert card["name"] == agent
    assert card["url"] == f"{upstreams_url}/a2a/{agent}"
    assert card["preferredTransport"] == "JSONRPC"
    skill = card["skills"][0]
    assert {"id", "name", "description", "tags"} <= set(skill)
    # The card's own URL answers message/send.
    assert httpx.post(card["url"], json=message()).status_code == 200


def test_unknown_agent_is_404(upstreams_url: str) -> None:
    assert send(upstreams_url, "nobody", message()).status_code == 404
    r = httpx.get(f"{upstreams_url}/a2a/nobody/.well-known/agent-card.json")
    assert r.status_code == 404
    assert r.json()["detail"]["valid"] == ["research-agent", "billing-agent"]


@pytest.mark.parametrize(
    ("body", "code", "text"),
    [
        (b"{oops", -32700, "Parse error"),
        (b"[]", -32600, "Invalid Request"),
        (b'{"jsonrpc": "1.0", "method": "message/send"}', -32600, "Invalid Request"),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "tasks/get"}', -32601, "Method not found: 'tasks/get'"),
        (
            b'{"jsonrpc": "2.0", "id": 1, "method": "message/send"}',
            -32602,
            "params.message must be an object",
        ),
        (
            b'{"jsonrpc": "2.0", "id": 1, "method": "message/send",'
            b' "params": {"message": {"role": "agent"}}}',
            -32602,
            "params.message.role must be 'user'",
        ),
        (
            b'{"jsonrpc": "2.0", "id": 1, "method": "message/send",'
            b' "params": {"message": {"role": "user", "parts": []}}}',
            -32602,
            "params.message.parts must be a non-empty array",
        ),
        (
            b'{"jsonrpc": "2.0", "id": 1, "method": "message/send",'
            b' "params": {"message": {"role": "user", "parts": [{"kind": "text", "text": 5}]}}}',
            -32602,
            "parts[0].text must be a string",
        ),
    ],
)
def test_a2a_bad_json_rpc_is_400_with_error_object(
    upstreams_url: str, body: bytes, code: int, text: str
) -> None:
    r = httpx.post(f"{upstreams_url}/a2a/research-agent", content=body)
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == code
    assert text in err["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/tools/weather?city=Oslo"), ("POST", "/a2a/billing-agent"), ("GET", "/health")],
)
def test_simulated_status_on_every_route(upstreams_url: str, method: str, path: str) -> None:
    r = httpx.request(method, f"{upstreams_url}{path}", json=message(), headers={"X-Simulate-Status": "503"})
    assert r.status_code == 503
    assert "simulated upstream failure" in r.json()["error"]


@pytest.mark.parametrize(
    ("header", "value", "error"),
    [
        ("X-Simulate-Status", "abc", "X-Simulate-Status must be an HTTP status code 200..599, got 'abc'"),
        ("X-Simulate-Status", "700", "X-Simulate-Status must be an HTTP status code 200..599"),
        ("X-Simulate-Delay", "soon", "X-Simulate-Delay must be a number in [0, 600], got 'soon'"),
        ("X-Simulate-Delay", "-1", "X-Simulate-Delay must be a number in [0, 600]"),
        ("X-Simulate-Delay", "nan", "X-Simulate-Delay must be a number in [0, 600]"),
        ("X-Simulate-Usage-Multiplier", "0", "X-Simulate-Usage-Multiplier must be a number in [1, 1e+06]"),
    ],
)
def test_bad_simulation_header_is_400(upstreams_url: str, header: str, value: str, error: str) -> None:
    r = httpx.get(f"{upstreams_url}/tools/weather?city=Oslo", headers={header: value})
    assert r.status_code == 400
    assert error in r.json()["error"]


def test_health_and_metrics(upstreams_url: str) -> None:
    assert httpx.get(f"{upstreams_url}/health").json() == {"status": "ok"}
    httpx.get(f"{upstreams_url}/tools/weather?city=Oslo")
    httpx.get(f"{upstreams_url}/no/such/path/123")
    text = httpx.get(f"{upstreams_url}/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    samples = families["upstreams_requests"].samples
    routes = {s.labels["route"] for s in samples}
    assert routes <= {*ROUTES, "other"}
    assert any(
        s.labels == {"route": "/tools/weather", "method": "GET", "status": "200"} and s.value >= 1
        for s in samples
        if s.name == "upstreams_requests_total"
    )
    assert any(s.labels["route"] == "other" and s.labels["status"] == "404" for s in samples)
    assert "process_cpu_seconds" in families
    om = httpx.get(f"{upstreams_url}/metrics", headers={"Accept": "application/openmetrics-text"})
    assert om.headers["content-type"].startswith("application/openmetrics-text")
    assert om.text.endswith("# EOF\n")


def test_every_served_route_has_a_metrics_template() -> None:
    assert set(create_app().openapi()["paths"]) == set(ROUTES)
