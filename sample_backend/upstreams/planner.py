"""What the simulated model "says": tool calls chosen from keywords, canned answers, token counts.

The backend offers its tools with OpenAI function-calling schemas; when the last
message is the user's, the planner picks the tools the message asks for (only among
those offered) and fills each call's arguments by the names the tool's JSON schema
uses. After tool results come back it answers with text built from them.

Usage::

    calls = plan_tool_calls("What's the weather in Paris?", offered_tools(request_tools))
    # [ToolCall(name="weather", arguments={"city": "Paris"})]
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["ToolCall", "answer_text", "count_tokens", "message_text", "offered_tools", "plan_tool_calls"]

_EXPRESSION = re.compile(r"\(?-?\d+(?:\.\d+)?\)?(?:\s*[-+*/]\s*\(?-?\d+(?:\.\d+)?\)?)+")
_CITY = re.compile(r"\b(?:in|for|at)\s+([A-Z][a-zA-Z]+(?:[ -][A-Z][a-zA-Z]+)?)")
_QUERY = re.compile(r"\b(?:for|about|on)\s+(.+?)[?.!]*$", re.I | re.S)
_CUSTOMER_ID = re.compile(r"\b(?:customer|account|crm|id)\b\D{0,12}(\d{1,12})", re.I)

# Argument names a tool schema may use for each value the planner extracts.
_SYNONYMS = {
    "city": ("city", "location", "place", "town"),
    "query": ("query", "q", "search", "terms", "text", "question"),
    "customer_id": ("customer_id", "customerId", "id", "customer"),
    "expression": ("expression", "expr", "formula", "input"),
    "agent": ("agent", "agent_name", "agentName", "target", "target_agent", "name"),
    "message": ("message", "task", "prompt", "text", "request", "query", "question"),
}


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any]


def message_text(content: Any) -> str:
    """Text of a message's ``content``: a string or a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def count_tokens(text: str) -> int:
    """About four characters a token, the rule of thumb for English with GPT tokenizers."""
    return max(1, round(len(text) / 4))


def offered_tools(tools: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Tool name -> its JSON schema (``parameters``), from the request's ``tools``."""
    out: dict[str, dict[str, Any]] = {}
    for tool in tools:
        fn = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            params = fn.get("parameters")
            out[fn["name"]] = params if isinstance(params, dict) else {}
    return out


def _weather(text: str) -> dict[str, Any]:
    m = _CITY.search(text)
    return {"city": m.group(1) if m else "London"}


def _search(text: str) -> dict[str, Any]:
    m = _QUERY.search(text)
    return {"query": (m.group(1) if m else text).strip()[:200]}


def _crm(text: str) -> dict[str, Any]:
    m = _CUSTOMER_ID.search(text)
    return {"customer_id": m.group(1) if m else "1001"}


def _calculator(text: str) -> dict[str, Any]:
    m = _EXPRESSION.search(text)
    return {"expression": m.group(0).strip() if m else "2 + 2"}


def _no_args(text: str) -> dict[str, Any]:
    return {}


# (canonical tool, trigger, value extractor). Word boundaries keep "research" from
# triggering the docs search.
_RULES: tuple[tuple[str, re.Pattern[str], Callable[[str], dict[str, Any]]], ...] = (
    ("weather", re.compile(r"\b(weather|forecast|temperature)\b", re.I), _weather),
    ("search_docs", re.compile(r"\b(docs?|documentation|search)\b", re.I), _search),
    ("crm_lookup", re.compile(r"\b(customer|crm)\b", re.I), _crm),
    (
        "calculator",
        re.compile(rf"\b(calculate|compute|arithmetic)\b|{_EXPRESSION.pattern}", re.I),
        _calculator,
    ),
    ("admin_reset_cache", re.compile(r"\breset\b.{0,20}\bcache\b", re.I | re.S), _no_args),
)
_AGENTS = (
    ("research-agent", re.compile(r"\bresearch\b", re.I)),
    ("billing-agent", re.compile(r"\bbilling\b", re.I)),
)


def _fit(schema: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Arguments under the names ``schema`` uses; unknown schemas get the values as they are."""
    props = schema.get("properties")
    if not isinstance(props, dict) or not props:
        return dict(values)
    args: dict[str, Any] = {}
    for prop, spec in props.items():
        for canonical, names in _SYNONYMS.items():
            if canonical in values and prop in names and values[canonical] not in args.values():
                value = values[canonical]
                kind = spec.get("type") if isinstance(spec, dict) else None
                args[prop] = int(value) if kind == "integer" and str(value).isdigit() else value
                break
    # A required string the synonyms missed still gets something sensible.
    leftovers = [v for v in values.values() if v not in args.values()]
    for prop in schema.get("required", []):
        if prop not in args and leftovers:
            args[prop] = leftovers.pop(0)
    return args


def plan_tool_calls(text: str, offered: dict[str, dict[str, Any]]) -> list[ToolCall]:
    """The calls a model would make for ``text``, using only tools in ``offered``."""
    calls = [
        ToolCall(name, _fit(offered[name], extract(text)))
        for name, trigger, extract in _RULES
        if name in offered and trigger.search(text)
    ]
    delegate = next((n for n in offered if n == "delegate_to_agent"), None) or next(
        (n for n in offered if "delegate" in n), None
    )
    if delegate is not None:
        for agent, trigger in _AGENTS:
            if trigger.search(text):
                values = {"agent": agent, "message": text.strip()[:500]}
                calls.append(ToolCall(delegate, _fit(offered[delegate], values)))
    return calls


_REPLIES = (
    "Happy to help. In short: start with the simplest option, measure it, and only add "
    "complexity where the numbers say you need it.",
    "Here is a quick answer. The usual approach is to break the problem into small steps, "
    "check each one, and keep notes on what changed so you can roll back safely.",
    "Good question. Most teams handle this with a short checklist, a clear owner, and a "
    "review after the fact so the same issue does not come back.",
    "Sure. The key trade-off is between speed and safety; a staged rollout with a quick "
    "way to revert usually gives you both.",
)


def answer_text(messages: list[dict[str, Any]]) -> str:
    """The final answer: a summary of tool results after tool calls, else a canned reply."""
    results: list[str] = []
    for msg in reversed(messages):
        if msg.get("role") != "tool":
            break
        results.append(message_text(msg.get("content")))
    if results:
        parts = []
        for raw in reversed(results):
            try:
                parsed: Any = json.loads(raw)
                raw = json.dumps(parsed, separators=(", ", ": "))
            except ValueError:
                pass
            parts.append(raw[:240])
        return "Here is what I found: " + " | ".join(parts) + ". Let me know if you need more detail."
    last_user: dict[str, Any] = next((m for m in reversed(messages) if m.get("role") == "user"), {})
    digest = hashlib.sha256(message_text(last_user.get("content")).encode()).digest()
    return _REPLIES[digest[0] % len(_REPLIES)]
