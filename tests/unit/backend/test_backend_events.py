"""The AG-UI stream: event order, SSE framing and SDK conformance of a run."""

from __future__ import annotations

import json

from tests.unit.backend.helpers import Backend, types


def test_plain_run_streams_started_state_text_finished(backend: Backend) -> None:
    status, events, _ = backend.run("Hello, how do I plan a rollout?")
    assert status == 200
    kinds = types(events)
    assert kinds[0] == "RUN_STARTED" and kinds[-1] == "RUN_FINISHED"
    assert kinds[1] == "STATE_SNAPSHOT"
    assert "TOOL_CALL_START" not in kinds
    start, end = kinds.index("TEXT_MESSAGE_START"), kinds.index("TEXT_MESSAGE_END")
    contents = [e for e in events[start + 1 : end]]
    assert contents and all(e["type"] == "TEXT_MESSAGE_CONTENT" for e in contents)
    assert all(e["delta"] for e in contents), "deltas are never empty"
    assert {e["messageId"] for e in events[start : end + 1]} == {events[start]["messageId"]}
    assert events[0]["threadId"] == events[-1]["threadId"]
    assert events[0]["runId"] == events[-1]["runId"]


def test_tool_calls_stream_start_args_end_result_then_state_delta(backend: Backend) -> None:
    status, events, _ = backend.run("What's the weather in Paris? And calculate 6 * 7.")
    assert status == 200
    kinds = types(events)
    calls = [e for e in events if e["type"] == "TOOL_CALL_START"]
    assert {c["toolCallName"] for c in calls} == {"weather", "calculator"}
    for call in calls:
        mine = [e for e in events if e.get("toolCallId") == call["toolCallId"]]
        assert types(mine) == ["TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END", "TOOL_CALL_RESULT"]
        json.loads(mine[1]["delta"])  # the arguments are a JSON document
        result = json.loads(mine[3]["content"])
        assert "error" not in result
    calc = next(e for e in events if e["type"] == "TOOL_CALL_RESULT" and "42" in e["content"])
    assert calc["role"] == "tool"
    deltas = [e for e in events if e["type"] == "STATE_DELTA"]
    added = [op["value"] for e in deltas for op in e["delta"] if op["path"] == "/toolCalls/-"]
    assert sorted(a["name"] for a in added) == ["calculator", "weather"]
    assert all(a["status"] == "OK" for a in added)
    # Every tool call completes before the answer starts.
    assert kinds.index("TEXT_MESSAGE_START") > max(i for i, k in enumerate(kinds) if k == "TOOL_CALL_RESULT")


def test_delegation_appears_as_tool_call_with_peer_answer(backend: Backend) -> None:
    status, events, _ = backend.run("Please ask research for the latest incident summary")
    assert status == 200
    start = next(e for e in events if e["type"] == "TOOL_CALL_START")
    assert start["toolCallName"] == "delegate_to_agent"
    result = next(e for e in events if e["type"] == "TOOL_CALL_RESULT")
    content = json.loads(result["content"])
    assert content["agent"] == "research-agent" and content["answer"]
    assert types(events)[-1] == "RUN_FINISHED"


def test_response_is_an_unbuffered_event_stream(backend: Backend) -> None:
    import httpx

    from tests.unit.backend.helpers import run_body

    with httpx.stream(
        "POST", f"{backend.url}/ag-ui/events", json=run_body("hi"), headers=backend.auth(), timeout=10
    ) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["cache-control"] == "no-cache"
        lines = r.iter_lines()
        first = next(lines)
    assert first.startswith('data: {"type":"RUN_STARTED"')


def test_second_turn_of_a_thread_finds_its_history_in_the_cache(backend: Backend) -> None:
    from tests.unit.backend.helpers import run_body

    body = run_body("first turn")

    for _ in range(2):
        r = backend.http.post(f"{backend.url}/ag-ui/events", json=body, headers=backend.auth(), timeout=10)
        assert r.status_code == 200
    assert backend.value("agent_cache_requests_total", result="hit") >= 1
    assert backend.value("agent_db_query_duration_seconds_count", operation="insert") == 4


def test_a_conversation_turn_reads_its_history_from_the_cache(backend: Backend) -> None:
    thread = "thread-conversation"
    _, events, _ = backend.run("Hello there!", threadId=thread)
    answer = "".join(e["delta"] for e in events if e["type"] == "TEXT_MESSAGE_CONTENT")
    hits = backend.value("agent_cache_requests_total", result="hit")
    misses = backend.value("agent_cache_requests_total", result="miss")
    transcript = [
        {"id": "m1", "role": "user", "content": "Hello there!"},
        {"id": "m2", "role": "assistant", "content": answer},
        {"id": "m3", "role": "user", "content": "Please calculate 6 * 7."},
    ]
    status, events, _ = backend.run("", threadId=thread, messages=transcript)
    assert status == 200 and types(events)[-1] == "RUN_FINISHED"
    # The caller's session and the thread's history are both warm on the second turn.
    assert backend.value("agent_cache_requests_total", result="hit") == hits + 2
    assert backend.value("agent_cache_requests_total", result="miss") == misses
    stored = backend.app.state.components.store._threads[thread]
    assert [m["content"] for m in stored][:3] == ["Hello there!", answer, "Please calculate 6 * 7."]
