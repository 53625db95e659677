"""A real Alertmanager 0.28 loads the bundle's config and templates, routes sample alerts to the
right receivers with the rendered text, and inhibits a warning under its critical sibling.

Receiver URLs are pointed at a local capture server through the same overrides a deployment
uses; only the group timers are shortened so the test does not wait 30 s."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import yaml

from stack.alerting import apply_url_overrides, load_alert_rules
from tests.rules._support import ALERTMANAGER_YML, TEMPLATES_DIR
from tests.support.servers import free_port

pytestmark = pytest.mark.rules


class Capture:
    """Records every POST (path, JSON body) a local HTTP server receives."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with capture.lock:
                    capture.posts.append((self.path, json.loads(body or b"{}")))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"status": "success"}')

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def wait_for(
        self, path: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 20
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for got_path, body in self.posts:
                    if got_path == path and predicate(body):
                        return body
            time.sleep(0.1)
        raise AssertionError(f"no delivery to {path} matching within {timeout} s; got {self.posts}")


@pytest.fixture(scope="module")
def capture() -> Iterator[tuple[Capture, str]]:
    cap = Capture()
    server = ThreadingHTTPServer(("127.0.0.1", 0), cap.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield cap, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def alertmanager(capture: tuple[Capture, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if binary is None:
        pytest.skip("prometheus-alertmanager not found; install the Debian package prometheus-alertmanager")
    _, base = capture
    work = tmp_path_factory.mktemp("alertmanager")
    env = {
        "ALERTMANAGER_PAGERDUTY_URL": f"{base}/pagerduty/v2/enqueue",
        "ALERTMANAGER_SLACK_ALERTS_URL": f"{base}/slack/alerts",
        "ALERTMANAGER_SLACK_SECURITY_URL": f"{base}/slack/security",
        "ALERTMANAGER_HEARTBEAT_URL": f"{base}/webhook/heartbeat",
    }
    config = yaml.safe_load(apply_url_overrides(ALERTMANAGER_YML.read_text(encoding="utf-8"), env))
    config["templates"] = [str(TEMPLATES_DIR / "*.tmpl")]

    def shorten(route: dict[str, Any]) -> None:
        route.update(group_wait="0s", group_interval="1s")
        for child in route.get("routes", []):
            shorten(child)

    shorten(config["route"])
    (work / "alertmanager.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    port = free_port()
    log = (work / "alertmanager.log").open("w")
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={work / 'alertmanager.yml'}",
            f"--storage.path={work / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=debug",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"Alertmanager did not become ready: {(work / 'alertmanager.log').read_text()}"
                )
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def post_alert(am: str, name: str, **extra_labels: str) -> dict[str, Any]:
    """POST the alert `name` with its real labels and annotations; return its annotations."""
    rule = next(r for r in load_alert_rules() if r.name == name)
    labels = {"alertname": name, **rule.labels, **extra_labels}
    annotations = {**rule.annotations, "description": f"{name} test description for {extra_labels}"}
    response = httpx.post(
        f"{am}/api/v2/alerts", json=[{"labels": labels, "annotations": annotations}], timeout=5
    )
    assert response.status_code == 200, response.text
    return annotations


def wait_for_status(am: str, name: str, instance: str, state: str, timeout: float = 10) -> dict[str, Any]:
    """Poll Alertmanager's API until alert `name` on `instance` is in `state`; return its status."""
    deadline = time.monotonic() + timeout
    seen: dict[str, Any] = {}
    while time.monotonic() < deadline:
        alerts = httpx.get(f"{am}/api/v2/alerts", params={"filter": f'alertname="{name}"'}, timeout=5).json()
        for alert in alerts:
            if alert["labels"].get("instance") == instance:
                seen = alert["status"]
                if seen["state"] == state:
                    return seen
        time.sleep(0.1)
    raise AssertionError(f"{name} on {instance} never became {state}; last status {seen}")


def test_critical_alert_pages_with_description_runbook_and_dashboard(
    alertmanager: str, capture: tuple[Capture, str]
) -> None:
    cap, _ = capture
    ann = post_alert(alertmanager, "BackendDown", instance="backend-9:8000", job="backend")
    body = cap.wait_for("/pagerduty/v2/enqueue", lambda b: "BackendDown" in b["payload"]["summary"])
    assert body["payload"]["summary"] == "[FIRING:1] BackendDown (critical) on backend-9:8000"
    details = body["payload"]["custom_details"]
    assert ann["description"] in details["description"]
    assert details["runbook_url"] == ann["runbook_url"]
    assert details["dashboard"] == ann["dashboard"]


def test_security_alert_reaches_the_security_channel_and_the_pager(
    alertmanager: str, capture: tuple[Capture, str]
) -> None:
    cap, _ = capture
    ann = post_alert(alertmanager, "AuthFailureSpike", instance="backend-2:8000", job="backend")
    slack = cap.wait_for("/slack/security", lambda b: "AuthFailureSpike" in b["attachments"][0]["title"])
    text = slack["attachments"][0]["text"]
    assert ann["description"] in text
    assert ann["runbook_url"] in text
    assert ann["dashboard"] in text
    assert slack["channel"] == "#security"
    cap.wait_for("/pagerduty/v2/enqueue", lambda b: "AuthFailureSpike" in b["payload"]["summary"])


def test_backend_down_inhibits_the_other_alerts_of_its_instance(
    alertmanager: str, capture: tuple[Capture, str]
) -> None:
    cap, _ = capture
    post_alert(alertmanager, "BackendDown", instance="backend-9:8000", job="backend")
    post_alert(alertmanager, "BackendProbeFailing", instance="backend-9:8000", job="blackbox-health")
    cap.wait_for("/pagerduty/v2/enqueue", lambda b: "BackendDown" in b["payload"]["summary"])
    status = wait_for_status(alertmanager, "BackendProbeFailing", "backend-9:8000", "suppressed")
    assert status["inhibitedBy"]


def test_warning_goes_to_alerts_channel(alertmanager: str, capture: tuple[Capture, str]) -> None:
    cap, _ = capture
    ann = post_alert(
        alertmanager, "ToolHighErrorRate", instance="backend-1:8000", job="backend", tool="weather"
    )
    slack = cap.wait_for("/slack/alerts", lambda b: "ToolHighErrorRate" in b["attachments"][0]["title"])
    assert (
        slack["attachments"][0]["title"]
        == "[FIRING:1] ToolHighErrorRate (warning) on backend-1:8000 tool weather"
    )
    assert ann["description"] in slack["attachments"][0]["text"]


def test_watchdog_reaches_only_the_heartbeat(alertmanager: str, capture: tuple[Capture, str]) -> None:
    cap, _ = capture
    post_alert(alertmanager, "Watchdog")
    body = cap.wait_for("/webhook/heartbeat", lambda b: b["commonLabels"].get("alertname") == "Watchdog")
    assert body["receiver"] == "heartbeat"


def test_critical_inhibits_its_warning_sibling_on_the_same_instance(
    alertmanager: str, capture: tuple[Capture, str]
) -> None:
    cap, _ = capture
    post_alert(alertmanager, "BackendHighErrorRate", instance="backend-2:8000", job="backend")
    post_alert(alertmanager, "BackendElevatedErrorRate", instance="backend-2:8000", job="backend")
    # The same warning on another instance is not inhibited.
    post_alert(alertmanager, "BackendElevatedErrorRate", instance="backend-1:8000", job="backend")
    cap.wait_for("/slack/alerts", lambda b: "BackendElevatedErrorRate" in b["attachments"][0]["title"])
    assert wait_for_status(alertmanager, "BackendElevatedErrorRate", "backend-2:8000", "suppressed")[
        "inhibitedBy"
    ]
    assert (
        wait_for_status(alertmanager, "BackendElevatedErrorRate", "backend-1:8000", "active")["inhibitedBy"]
        == []
    )
    cap.wait_for("/pagerduty/v2/enqueue", lambda b: "BackendHighErrorRate" in b["payload"]["summary"])
    with cap.lock:
        slack_titles = [b["attachments"][0]["title"] for p, b in cap.posts if p == "/slack/alerts"]
    assert not any("BackendElevatedErrorRate" in t and "backend-2:8000" in t for t in slack_titles)
