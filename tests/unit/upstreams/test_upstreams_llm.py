"""The simulated LLM, driven through the official openai client over real HTTP."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import openai
import pytest
from openai import AsyncOpenAI

T = TypeVar("T")

TOOLS: list[Any] = [
    {"type": "function", "function": {"name": name, "description": name, "parameters": params}}
    for name, params in [
        ("weather", {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        (
            "search_docs",
            {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
        ),
        (
            "crm_lookup",
            {
                "type": "object",
                "properties": {"customer_id": {"type": "string"}},
                "required": ["customer_id"],
            },
        ),
        (
            "calculator",
            {"type": "object", "properties": {"expression": {"type": "string"}}, "required": ["expression"]},
        ),
        ("admin_reset_cache", {"type": "object", "properties": {}}),
        (
            "delegate_to_agent",
            {
                "type": "object",
                "properties": {
                    "agent": {"type": "string", "enum": ["research-agent", "billing-agent"]},
                    "message": {"type": "string"},
                },
                "required": ["agent", "message"],
            },
        ),
    ]
]


def run(url: str, fn: Callable[[AsyncOpenAI], Awaitable[T]], **headers: str) -> T:
    async def main() -> T:
        async with AsyncOpenAI(
            base_url=f"{url}/v1", api_key="sk-test", max_retries=0, default_headers=headers
        ) as client:
            return await fn(client)

    return asyncio.run(main())


def user(text: str) -> list[Any]:
    return [{"role": "system", "content": "You are helpful."}, {"role": "user", "content": text}]


def test_plain_completion_has_text_and_usage(upstreams_url: str) -> None:
    async def call(c: AsyncOpenAI) -> Any:
        return await c.chat.completions.create(model="gpt-4o-mini", messages=user("Tell me a fact"))

    r = run(upstreams_url, call)
    assert r.object == "chat.completion"
    assert r.model == "gpt-4o-mini"
    assert r.choices[0].finish_reason == "stop"
    assert r.choices[0].message.content
    assert r.usage is not None
    assert r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_streaming_completion_ends_with_usage_chunk(upstreams_url: str) -> None:
    async def call(c: AsyncOpenAI) -> list[Any]:
        stream = await c.chat.completions.create(
            model="gpt-4o-mini",
            messages=user("Tell me a fact"),
            stream=True,
            stream_options={"include_usage": True},
        )
        return [chunk async for chunk in stream]

    chunks = run(upstreams_url, call)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(text) > 20
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])
    assert len({c.id for c in chunks}) == 1


def test_stream_without_include_usage_has_no_usage_chunk(upstreams_url: str) -> None:
    with httpx.stream(
        "POST",
        f"{upstreams_url}/v1/chat/completions",
        json={"model": "m", "messages": user("hi"), "stream": True},
    ) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in r.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    frames = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    assert all("usage" not in f and f["choices"] for f in frames)


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("What's the weather in Paris today?", [("weather", {"city": "Paris"})]),
        ("Search the docs for rate limits", [("search_docs", {"query": "rate limits"})]),
        ("Look up customer 1042 in the CRM", [("crm_lookup", {"customer_id": "1042"})]),
        ("Please calculate 12 * (3 + 4)", [("calculator", {"expression": "12 * (3 + 4)"})]),
        ("reset cache now please", [("admin_reset_cache", {})]),
        (
            "Ask the research team about vector databases",
            [
                (
                    "delegate_to_agent",
                    {"agent": "research-agent", "message": "Ask the research team about vector databases"},
                )
            ],
        ),
        (
            "I have a billing question",
            [("delegate_to_agent", {"agent": "billing-agent", "message": "I have a billing question"})],
        ),
        (
            "Weather in Oslo and what is 2 + 3?",
            [("weather", {"city": "Oslo"}), ("calculator", {"expression": "2 + 3"})],
        ),
    ],
)
def test_tool_calls_from_keywords(upstreams_url: str, prompt: str, expected: list[Any]) -> None:
    async def call(c: AsyncOpenAI) -> Any:
        return await c.chat.completions.create(model="gpt-4o-mini", messages=user(prompt), tools=TOOLS)

    r = run(upstreams_url, call)
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    got = [(t.function.name, json.loads(t.function.arguments)) for t in choice.message.tool_calls or []]
    assert got == expected
    assert all(t.id.startswith("call_") for t in choice.message.tool_calls or [])
    assert r.usage is not None and r.usage.completion_tokens > 0


def test_streamed_tool_call_arguments_reassemble(upstreams_url: str) -> None:
    async def call(c: AsyncOpenAI) -> list[Any]:
        stream = await c.chat.completions.create(
            model="gpt-4o-mini",
            messages=user("Weather in New York and search docs about budgets"),
            tools=TOOLS,
            stream=True,
            stream_options={"include_usage": True},
        )
        return [chunk async for chunk in stream]

    chunks = run(upstreams_url, call)
    calls: dict[int, dict[str, str]] = {}
    for c in chunks:
        for tc in (c.choices[0].delta.tool_calls or []) if c.choices else []:
            slot = calls.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
            slot["id"] += tc.id or ""
            if tc.function:
                slot["name"] += tc.function.name or ""
                slot["arguments"] += tc.function.arguments or ""
    assert [(v["name"], json.loads(v["arguments"])) for _, v in sorted(calls.items())] == [
        ("weather", {"city": "New York"}),
        ("search_docs", {"query": "budgets"}),
    ]
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert chunks[-1].usage is not None


def test_only_offered_tools_are_called(upstreams_url: str) -> None:
    async def call(c: AsyncOpenAI) -> Any:
        return await c.chat.completions.create(
            model="gpt-4o-mini",
            messages=user("reset cache and weather in Rome"),
            tools=[TOOLS[0]],
        )

    r = run(upstreams_url, call)
    assert [t.function.name for t in r.choices[0].message.tool_calls or []] == ["weather"]


def test_answers_with_text_after_tool_results(upstreams_url: str) -> None:
    messages: list[Any] = [
        *user("What's the weather in Paris?"),
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"city": "Paris", "conditions": "sunny"}'},
    ]

    async def call(c: AsyncOpenAI) -> Any:
        return await c.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)

    r = run(upstreams_url, call)
    assert r.choices[0].finish_reason == "stop"
    assert "sunny" in (r.choices[0].message.content or "")


def test_usage_multiplier_scales_usage(upstreams_url: str) -> None:
    async def call(c: AsyncOpenAI) -> Any:
        return await c.chat.completions.create(model="gpt-4o-mini", messages=user("Tell me a fact"))

    base = run(upstreams_url, call).usage
    burnt = run(upstreams_url, call, **{"X-Simulate-Usage-Multiplier": "1000"}).usage
    assert base is not None and burnt is not None
    assert burnt.prompt_tokens == base.prompt_tokens * 1000
    assert burnt.completion_tokens == base.completion_tokens * 1000


def test_simulated_status_raises_in_the_client(upstreams_url: str) -> None:
    async def call(c: AsyncOpenAI) -> Any:
        return await c.chat.completions.create(model="gpt-4o-mini", messages=user("hi"))

    with pytest.raises(openai.InternalServerError) as info:
        run(upstreams_url, call, **{"X-Simulate-Status": "500"})
    assert info.value.status_code == 500
    with pytest.raises(openai.RateLimitError):
        run(upstreams_url, call, **{"X-Simulate-Status": "429"})


def test_simulated_delay_delays_the_answer(upstreams_url: str) -> None:
    async def call(c: AsyncOpenAI) -> Any:
        return await c.chat.completions.create(model="gpt-4o-mini", messages=user("hi"))

    start = time.monotonic()
    run(upstreams_url, call, **{"X-Simulate-Delay": "0.4"})
    assert time.monotonic() - start >= 0.4


def test_models_list(upstreams_url: str) -> None:
    async def call(c: AsyncOpenAI) -> list[str]:
        return [m.id async for m in c.models.list()]

    assert "gpt-4o-mini" in run(upstreams_url, call)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{nope", "request body is not valid JSON"),
        (b"[]", "request body must be a JSON object"),
        (b'{"messages": [{"role": "user", "content": "x"}]}', "'model' is required"),
        (b'{"model": "m", "messages": []}', "'messages' must be a non-empty array"),
        (b'{"model": "m", "messages": [{"role": "robot"}]}', "messages[0].role must be one of"),
        (b'{"model": "m", "messages": [{"role": "user"}], "n": 2}', "only n=1 is supported"),
        (b'{"model": "m", "messages": [{"role": "user"}], "stream": "yes"}', "'stream' must be a boolean"),
        (b'{"model": "m", "messages": [{"role": "user"}], "tools": {}}', "'tools' must be an array"),
    ],
)
def test_bad_requests_are_openai_style_400s(upstreams_url: str, body: bytes, message: str) -> None:
    r = httpx.post(f"{upstreams_url}/v1/chat/completions", content=body)
    assert r.status_code == 400
    err = r.json()["error"]
    assert message in err["message"]
    assert err["type"] == "invalid_request_error"
