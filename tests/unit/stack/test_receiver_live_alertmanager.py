"""A real Alertmanager 0.28 delivers to the receiver through all three integrations,
firing and resolved, and every delivery parses (the payload files in ``payloads/`` were
captured this way)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from stack.receiver import ReceiverSettings, create_app
from tests.support.servers import free_port, serve

pytestmark = pytest.mark.e2e

CONFIG = """
route:
  receiver: all
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: all
  pagerduty_configs:
  - routing_key: test-key
    url: {url}/pagerduty/v2/enqueue
  slack_configs:
  - api_url: {url}/slack/alerts
    channel: '#alerts'
    send_resolved: true
  webhook_configs:
  - url: {url}/webhook/heartbeat
"""


@pytest.fixture
def receiver_and_alertmanager(tmp_path: Path) -> Iterator[tuple[Any, str]]:
    app = create_app(ReceiverSettings(data_dir=tmp_path / "receiver"))
    with serve(app) as url:
        (tmp_path / "am.yml").write_text(CONFIG.format(url=url))
        port = free_port()
        with (tmp_path / "am.log").open("w") as log:
            proc = subprocess.Popen(
                [
                    "prometheus-alertmanager",
                    f"--config.file={tmp_path / 'am.yml'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--cluster.listen-address=",
                    f"--storage.path={tmp_path / 'am'}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            am = f"http://127.0.0.1:{port}"
            wait(lambda: _ready(am), "alertmanager ready", tmp_path / "am.log")
            yield app, am
        finally:
            proc.terminate()
            proc.wait(10)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/-/ready").status_code == 200
    except httpx.HTTPError:
        return False


def wait(cond: Any, what: str, log: Path | None = None, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            tail = log.read_text()[-2000:] if log else ""
            pytest.fail(f"{what} never happened within {timeout} s\n{tail}")
        time.sleep(0.05)


def test_alertmanager_deliveries_arrive_parsed(receiver_and_alertmanager: tuple[Any, str]) -> None:
    app, am = receiver_and_alertmanager
    store = app.state.store
    alert: dict[str, Any] = {
        "labels": {"alertname": "LiveAlert", "severity": "critical", "area": "stack"},
        "annotations": {"summary": "live summary", "description": "live description"},
    }
    httpx.post(f"{am}/api/v2/alerts", json=[alert]).raise_for_status()
    wait(lambda: len(store.deliveries()) >= 3, "three firing deliveries")
    alert["endsAt"] = datetime.now(UTC).isoformat()
    httpx.post(f"{am}/api/v2/alerts", json=[alert]).raise_for_status()
    wait(lambda: len(store.deliveries()) >= 6, "three resolved deliveries")

    got = {(d.kind, d.status): d for d in store.deliveries()}
    assert set(got) == {(k, s) for k in ("pagerduty", "slack", "webhook") for s in ("firing", "resolved")}
    assert all(d.alertnames == ["LiveAlert"] for d in got.values())
    assert got["webhook", "firing"].description == "live description"
    assert got["pagerduty", "firing"].severity == "critical"
    assert got["slack", "firing"].receiver == "alerts"
    assert store.rejected() == []
