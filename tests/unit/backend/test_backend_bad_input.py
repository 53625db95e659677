"""Bad input to /ag-ui/events: a 4xx JSON saying what was wrong, never a 500 or a hang."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.unit.backend.helpers import Backend, run_body


def _post(backend: Backend, content: bytes, content_type: str = "application/json") -> httpx.Response:
    headers = {**backend.auth(), "Content-Type": content_type}
    return backend.http.post(f"{backend.url}/ag-ui/events", content=content, headers=headers, timeout=5)


@pytest.mark.parametrize(
    ("content", "status", "error", "mentions"),
    [
        (b"{not json", 400, "malformed_json", "not valid JSON"),
        (b"", 400, "malformed_json", "not valid JSON"),
        (b"\xff\xfe", 400, "malformed_json", "not valid JSON"),
        (b"[1, 2]", 422, "invalid_body", "RunAgentInput"),
        (b'"text"', 422, "invalid_body", "RunAgentInput"),
        (json.dumps({"runId": "r", "messages": []}).encode(), 422, "invalid_body", "threadId"),
        (json.dumps({"threadId": "t", "runId": "r"}).encode(), 422, "invalid_body", "messages"),
        (json.dumps({"threadId": 5, "runId": "r", "messages": []}).encode(), 422, "invalid_body", "threadId"),
        (
            json.dumps({"threadId": "t", "runId": "r", "messages": "hi"}).encode(),
            422,
            "invalid_body",
            "messages",
        ),
        (
            json.dumps({"threadId": "t", "runId": "r", "messages": [{"id": "1", "role": "robot"}]}).encode(),
            422,
            "invalid_body",
            "messages",
        ),
        (
            json.dumps({"threadId": "t", "runId": "r", "messages": []}).encode(),
            422,
            "invalid_body",
            "user message",
        ),
        (json.dumps(run_body("hi", threadId="x" * 300)).encode(), 422, "invalid_body", "threadId"),
        (json.dumps(run_body("   ")).encode(), 422, "invalid_body", "user message"),
    ],
)
def test_bad_bodies_answer_json_4xx_naming_the_problem(
    shared_backend: Backend, content: bytes, status: int, error: str, mentions: str
) -> None:
    r = _post(shared_backend, content)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == error
    assert mentions in json.dumps(body["detail"])
    assert shared_backend.value("agent_runs_total", outcome="error") == 0


def test_wrong_content_type_is_415(shared_backend: Backend) -> None:
    r = _post(shared_backend, json.dumps(run_body("hi")).encode(), "text/plain")
    assert r.status_code == 415
    assert r.json()["error"] == "unsupported_media_type" and "application/json" in r.json()["detail"]


def test_oversized_body_is_413(shared_backend: Backend) -> None:
    huge = json.dumps(run_body("x" * 300_000)).encode()
    r = _post(shared_backend, huge)
    assert r.status_code == 413
    assert r.json() == {"error": "body_too_large", "detail": "the body is larger than 262144 bytes"}


def test_oversized_chunked_body_without_length_is_413(shared_backend: Backend) -> None:
    def chunks() -> Any:
        for _ in range(40):
            yield b"x" * 10_000

    headers = {**shared_backend.auth(), "Content-Type": "application/json"}
    r = shared_backend.http.post(
        f"{shared_backend.url}/ag-ui/events", content=chunks(), headers=headers, timeout=5
    )
    assert r.status_code == 413


def test_unknown_path_and_method_answer_json(shared_backend: Backend) -> None:
    r = shared_backend.http.get(f"{shared_backend.url}/no/such/path")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = shared_backend.http.get(f"{shared_backend.url}/ag-ui/events")
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"


def test_multimodal_user_content_is_accepted(shared_backend: Backend) -> None:
    content = [{"type": "text", "text": "What is the weather in Rome?"}]
    status, events, _ = shared_backend.run(
        "unused", messages=[{"id": "m", "role": "user", "content": content}]
    )
    assert status == 200 and events[-1]["type"] == "RUN_FINISHED"
