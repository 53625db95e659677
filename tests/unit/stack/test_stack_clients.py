"""Client wait helpers name the condition that never happened and the last state seen."""

from __future__ import annotations

import httpx
import pytest

from stack.clients import ReceiverClient, WaitTimeout, poll
from stack.receiver import create_app
from tests.support.servers import serve


def test_poll_returns_the_value_once_done() -> None:
    calls = iter([(False, "a"), (False, "b"), (True, "c")])
    assert poll(lambda: next(calls), "third call", timeout=5, interval=0) == "c"


def test_poll_timeout_names_condition_and_last_state() -> None:
    with pytest.raises(WaitTimeout, match=r"the moon never happened within 0\.05 s; last state seen: cheese"):
        poll(lambda: (False, "cheese"), "the moon", timeout=0.05, interval=0.01)


def test_poll_counts_http_errors_as_state() -> None:
    def probe() -> tuple[bool, str]:
        raise httpx.ConnectError("refused")

    with pytest.raises(WaitTimeout, match="ConnectError: refused"):
        poll(probe, "a connection", timeout=0.05, interval=0.01)


def test_receiver_client_against_a_real_receiver() -> None:
    body = {
        "status": "firing",
        "alerts": [{"labels": {"alertname": "X", "severity": "warning"}}],
        "commonLabels": {"alertname": "X"},
    }
    with serve(create_app()) as url, ReceiverClient(url) as client:
        httpx.post(f"{url}/webhook/heartbeat", json=body).raise_for_status()
        assert client.wait_delivery("X", receiver="heartbeat", timeout=2)["alertnames"] == ["X"]
        with pytest.raises(WaitTimeout) as err:
            client.wait_delivery("Y", timeout=0.2)
        assert "firing notification of Y" in str(err.value)
        assert "webhook/heartbeat firing X" in str(err.value)
        assert client.fail(503, 30)["active"] is True
        assert httpx.post(f"{url}/webhook/heartbeat", json=body).status_code == 503
        assert client.failure()["failed_attempts"] == 1
        assert client.recover()["active"] is False
        client.reset()
        assert client.deliveries() == []
