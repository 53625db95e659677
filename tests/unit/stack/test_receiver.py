"""The receiver accepts Alertmanager 0.28's real payloads (captured from a live process
into ``payloads/``), rejects malformed ones loudly, filters, and fails on request."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from stack.receiver import ReceiverSettings, create_app

PAYLOADS = Path(__file__).parent / "payloads"
ENDPOINTS = {"pagerduty": "/pagerduty/v2/enqueue", "slack": "/slack/alerts", "webhook": "/webhook/heartbeat"}


def payload(kind: str, status: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / f"am028_{kind}_{status}.json").read_text())
    return data


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(ReceiverSettings(data_dir=tmp_path))) as c:
        yield c


@pytest.mark.parametrize("status", ["firing", "resolved"])
@pytest.mark.parametrize("kind", ["pagerduty", "slack", "webhook"])
def test_real_alertmanager_payloads_are_normalised(client: TestClient, kind: str, status: str) -> None:
    resp = client.post(ENDPOINTS[kind], json=payload(kind, status))
    assert resp.status_code == (202 if kind == "pagerduty" else 200)
    [d] = client.get("/api/deliveries").json()["deliveries"]
    assert d["kind"] == kind
    assert d["status"] == status
    assert d["alertnames"] == ["TestAlert"]
    if kind == "slack":
        # Alertmanager's default Slack message shows label values only, in the title.
        assert "backend-1:8000" in d["title"]
    else:
        assert d["labels"]["instance"] == "backend-1:8000"
        assert d["severity"] == "critical"
    assert d["raw"] == payload(kind, status)
    assert d["receiver"] == {"pagerduty": "pagerduty", "slack": "alerts", "webhook": "heartbeat"}[kind]


def test_pagerduty_answers_like_pagerduty(client: TestClient) -> None:
    body = payload("pagerduty", "firing")
    resp = client.post("/pagerduty/v2/enqueue", json=body)
    assert resp.status_code == 202
    assert resp.json()["status"] == "success"
    assert resp.json()["dedup_key"] == body["dedup_key"]


def test_slack_answers_ok_text(client: TestClient) -> None:
    resp = client.post("/slack/security", json=payload("slack", "firing"))
    assert resp.text == "ok"
    assert client.get("/api/deliveries", params={"receiver": "security"}).json()["count"] == 1


def test_pagerduty_resolve_without_names_inherits_them_from_its_trigger(client: TestClient) -> None:
    client.post("/pagerduty/v2/enqueue", json=payload("pagerduty", "firing"))
    resolve = payload("pagerduty", "resolved")
    resolve["payload"] = {"summary": "resolved", "custom_details": {}}
    client.post("/pagerduty/v2/enqueue", json=resolve)
    got = client.get("/api/deliveries", params={"status": "resolved"}).json()["deliveries"]
    assert got[0]["alertnames"] == ["TestAlert"]


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/pagerduty/v2/enqueue", b"{not json", "not JSON"),
        ("/pagerduty/v2/enqueue", b'{"dedup_key": "x"}', "event_action"),
        ("/pagerduty/v2/enqueue", b'{"event_action": "explode", "dedup_key": "x"}', "explode"),
        ("/slack/alerts", b'{"text": "no attachments"}', "attachments"),
        ("/slack/alerts", b'{"attachments": []}', "attachments"),
        ("/webhook/heartbeat", b"[1, 2]", "JSON object"),
        ("/webhook/heartbeat", b'{"status": "firing", "alerts": [{"nolabels": 1}]}', "labels"),
        ("/webhook/heartbeat", b'{"status": "odd", "alerts": []}', "odd"),
    ],
)
def test_malformed_deliveries_are_rejected_counted_and_kept(
    client: TestClient, path: str, body: bytes, message: str, tmp_path: Path
) -> None:
    resp = client.post(path, content=body, headers={"content-type": "application/json"})
    assert resp.status_code == 400
    assert message in resp.json()["detail"]
    rejected = client.get("/api/rejected").json()
    assert rejected["count"] == 1
    assert rejected["rejected"][0]["path"] == path
    assert client.get("/api/deliveries").json()["count"] == 0
    assert "receiver_rejected_total 1.0" in client.get("/metrics").text
    assert (tmp_path / "rejected.jsonl").read_text().count("\n") == 1


def test_filters_select_deliveries(client: TestClient) -> None:
    before = time.time()
    for kind in ENDPOINTS:
        client.post(ENDPOINTS[kind], json=payload(kind, "firing"))
    client.post(ENDPOINTS["webhook"], json=payload("webhook", "resolved"))

    def count(**params: str) -> int:
        resp = client.get("/api/deliveries", params=params)
        assert resp.status_code == 200, resp.text
        return int(resp.json()["count"])

    assert count() == 4
    assert count(receiver="heartbeat") == 2
    assert count(receiver="pagerduty") == 1
    assert count(kind="slack") == 1
    assert count(alertname="TestAlert", status="resolved") == 1
    assert count(alertname="Other") == 0
    assert count(since=str(before - 1)) == 4
    assert count(since=str(time.time() + 60)) == 0
    assert count(since="2000-01-01T00:00:00Z") == 4
    assert count(since="2999-01-01T00:00:00+00:00") == 0


@pytest.mark.parametrize(
    ("params", "named"),
    [({"since": "yesterday"}, "since"), ({"status": "pending"}, "status"), ({"colour": "red"}, "colour")],
)
def test_bad_filters_answer_400_naming_them(client: TestClient, params: dict[str, str], named: str) -> None:
    resp = client.get("/api/deliveries", params=params)
    assert resp.status_code == 400
    assert named in resp.json()["detail"]


def test_reset_forgets_deliveries_but_the_file_keeps_them(client: TestClient, tmp_path: Path) -> None:
    client.post(ENDPOINTS["webhook"], json=payload("webhook", "firing"))
    assert client.delete("/api/deliveries").status_code == 200
    assert client.get("/api/deliveries").json()["count"] == 0
    lines = [json.loads(line) for line in (tmp_path / "deliveries.jsonl").read_text().splitlines()]
    assert lines[0]["alertnames"] == ["TestAlert"]
    assert "reset_at" in lines[1]


def test_failure_mode_answers_the_status_counts_attempts_and_ends(client: TestClient) -> None:
    resp = client.put("/api/failure", json={"status": 503, "seconds": 30})
    assert resp.json()["active"] is True
    for kind, path in ENDPOINTS.items():
        assert client.post(path, json=payload(kind, "firing")).status_code == 503
    state = client.get("/api/failure").json()
    assert state["failed_attempts"] == 3
    assert "receiver_failed_attempts_total 3.0" in client.get("/metrics").text
    assert client.get("/api/deliveries").json()["count"] == 0
    assert client.delete("/api/failure").json()["active"] is False
    assert client.post(ENDPOINTS["webhook"], json=payload("webhook", "firing")).status_code == 200
    assert 'receiver_deliveries_total{kind="webhook",status="firing"} 1.0' in client.get("/metrics").text


def test_failure_mode_expires_by_itself(client: TestClient) -> None:
    client.put("/api/failure", json={"status": 500, "seconds": 0.05})
    deadline = time.monotonic() + 5
    while client.get("/api/failure").json()["active"]:
        assert time.monotonic() < deadline, "failure mode never expired"
        time.sleep(0.01)
    assert client.post(ENDPOINTS["webhook"], json=payload("webhook", "firing")).status_code == 200


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"status": 200, "seconds": 5}, "status"),
        ({"status": 503}, "seconds"),
        ({"status": 503, "seconds": -1}, "seconds"),
        ([503], "object"),
    ],
)
def test_bad_failure_mode_requests_answer_400(client: TestClient, body: Any, named: str) -> None:
    resp = client.put("/api/failure", json=body)
    assert resp.status_code == 400
    assert named in resp.json()["detail"]


def test_slack_labels_and_severity_come_from_a_rendered_labels_block(client: TestClient) -> None:
    body = payload("slack", "firing")
    body["attachments"][0]["text"] = "Labels:\n - alertname = TestAlert\n - severity = warning\n"
    client.post("/slack/alerts", json=body)
    [d] = client.get("/api/deliveries").json()["deliveries"]
    assert d["severity"] == "warning"
    assert d["labels"] == {"alertname": "TestAlert", "severity": "warning"}


def test_health(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("name", "path", "alertname", "severity", "instance"),
    [
        (
            "bundle_pagerduty_pagerduty",
            "/pagerduty/v2/enqueue",
            "BundleCritical",
            "critical",
            "backend-1:8000",
        ),
        ("bundle_slack_alerts", "/slack/alerts", "BundleWarning", "warning", "backend-2:8000"),
        ("bundle_slack_security", "/slack/security", "BundleWarning", "warning", "backend-2:8000"),
    ],
)
@pytest.mark.parametrize("status", ["firing", "resolved"])
def test_the_bundles_own_templates_are_understood(
    client: TestClient, name: str, path: str, alertname: str, severity: str, instance: str, status: str
) -> None:
    """Payloads captured from the bundle's alertmanager.yml and templates."""
    body = json.loads((PAYLOADS / f"{name}_{status}.json").read_text())
    assert client.post(path, json=body).is_success
    [d] = client.get("/api/deliveries").json()["deliveries"]
    assert (d["alertnames"], d["status"], d["severity"]) == ([alertname], status, severity)
    assert d["labels"]["instance"] == instance
    assert d["title"].startswith(f"[{status.upper()}")
    assert f"runbooks.md#{alertname.lower()}" in d["text"]
