"""LLM calls through the official ``openai`` client, measured the GenAI-semconv way.

Two calls per run: :meth:`LlmClient.plan` (function calling: which tools to use) and
:meth:`LlmClient.stream_answer` (the streamed final answer, with
``stream_options.include_usage`` so the last chunk carries the token counts). Both go
to ``BACKEND_LLM_BASE_URL``; any OpenAI-compatible endpoint works unchanged. Each call
is a ``chat {model}`` client span with the GenAI attributes — written here unless the
OpenAI instrumentation is active and writes it itself. That span is the call's client
span: the HTTP request under it gets no span of its own, only the trace context.

Per call this records ``gen_ai_client_operation_duration_seconds`` (``error_type``
empty on success, else the HTTP status class or the client exception class),
``gen_ai_client_token_usage`` per token type, ``agent_llm_cost_usd_total`` and the
daily token budget. Faults act on the wire: ``llm_errors`` / ``llm_latency`` /
``token_budget_burn`` send ``X-Simulate-*`` headers the simulated upstream honours,
``llm_outage`` sends the call to a port where nothing listens.

Usage::

    llm = LlmClient(settings, faults, metrics, budget, unreachable_url)
    message = await llm.plan(messages, TOOL_SCHEMAS)
    text = await llm.stream_answer(messages, on_delta)
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
import openai
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionMessage
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from sample_backend.app.pricing import TokenBudget, cost_usd, model_label
from sample_backend.app.settings import BackendSettings
from sample_backend.faults.registry import FaultRegistry
from sample_backend.telemetry.metrics import BackendMetrics
from sample_backend.telemetry.tracing import exemplar, openai_instrumented, untraced_http

__all__ = ["ERROR_TYPES", "LlmClient", "LlmError"]

OPERATION = "chat"
PROVIDER = "openai"
OnDelta = Callable[[str], Awaitable[None]]
ERROR_TYPES = ("", "4xx", "5xx", "APIConnectionError", "APITimeoutError", "other")


class LlmError(Exception):
    """An LLM call failed; ``code`` is the RUN_ERROR code, ``error_type`` the metric label."""

    def __init__(self, code: str, error_type: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.error_type = error_type


def _classify(exc: BaseException) -> LlmError:
    if isinstance(exc, openai.APIStatusError):
        status_class = f"{exc.status_code // 100}xx"
        label = status_class if status_class in ERROR_TYPES else "other"
        return LlmError("LLM_ERROR", label, f"LLM answered HTTP {exc.status_code}")
    # APITimeoutError is a subclass of APIConnectionError, so it is tested first.
    if isinstance(exc, openai.APITimeoutError):
        return LlmError("LLM_TIMEOUT", "APITimeoutError", "LLM call timed out")
    if isinstance(exc, openai.APIConnectionError):
        return LlmError("LLM_UNAVAILABLE", "APIConnectionError", "LLM unreachable: connection failed")
    return LlmError("LLM_ERROR", "other", f"LLM call failed: {type(exc).__name__}")


class LlmClient:
    """The agent's model client: function-calling plan plus streamed answer."""

    def __init__(
        self,
        settings: BackendSettings,
        faults: FaultRegistry,
        metrics: BackendMetrics,
        budget: TokenBudget,
        unreachable_base_url: str,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.model = settings.llm_model
        self._label = model_label(settings.llm_model)
        self._faults = faults
        self._metrics = metrics
        self._budget = budget
        self._tracer = trace.get_tracer(__name__)
        self._instrumented = openai_instrumented()
        # No client-side retries: a retry would hide upstream errors from the error-rate
        # metric and double the latency a user sees; the run fails fast instead.
        common: dict[str, Any] = {
            "api_key": settings.llm_api_key,
            "max_retries": 0,
            "timeout": settings.llm_timeout_seconds,
            # Sharing the app's HTTP client saves building a TLS context per client.
            "http_client": http,
        }
        self._client = AsyncOpenAI(base_url=settings.llm_base_url, **common)
        self._unreachable = AsyncOpenAI(base_url=unreachable_base_url, **common)
        for token_type in ("input", "output"):
            metrics.llm_tokens.labels(OPERATION, PROVIDER, self._label, token_type)
        metrics.llm_cost.labels(gen_ai_request_model=self._label)

    def _target(self) -> tuple[AsyncOpenAI, dict[str, str]]:
        """The client to use (llm_outage: the unreachable one) and the fault headers."""
        client = self._unreachable if self._faults.active("llm_outage") else self._client
        headers: dict[str, str] = {}
        if self._faults.roll("llm_errors") is not None:
            headers["X-Simulate-Status"] = "500"
        latency = self._faults.params("llm_latency")
        if latency is not None:
            headers["X-Simulate-Delay"] = f"{float(latency['seconds']):g}"
        burn = self._faults.params("token_budget_burn")
        if burn is not None:
            headers["X-Simulate-Usage-Multiplier"] = f"{float(burn['multiplier']):g}"
        return client, headers

    def _observe(self, start: float, error_type: str) -> None:
        self._metrics.llm_duration.labels(OPERATION, PROVIDER, self._label, error_type).observe(
            time.perf_counter() - start, exemplar()
        )

    def _record_usage(self, span: Span, input_tokens: int, output_tokens: int) -> None:
        span.set_attribute("gen_ai.usage.input_tokens", input_tokens)
        span.set_attribute("gen_ai.usage.output_tokens", output_tokens)
        for token_type, count in (("input", input_tokens), ("output", output_tokens)):
            self._metrics.llm_tokens.labels(OPERATION, PROVIDER, self._label, token_type).observe(count)
        self._metrics.llm_cost.labels(gen_ai_request_model=self._label).inc(
            cost_usd(self.model, input_tokens, output_tokens)
        )
        self._budget.add(input_tokens + output_tokens)

    @contextmanager
    def _span(self, client: AsyncOpenAI, streaming: bool) -> Iterator[Span]:
        """The ``chat {model}`` client span, unless the OpenAI instrumentation writes it.

        The instrumentation records the response and usage attributes itself, on its own
        span; a non-recording span here keeps them off the enclosing agent span.
        """
        if self._instrumented:
            with untraced_http():
                yield trace.INVALID_SPAN
            return
        attributes: dict[str, AttributeValue] = {
            "gen_ai.operation.name": OPERATION,
            "gen_ai.provider.name": PROVIDER,
            "gen_ai.system": PROVIDER,
            "gen_ai.request.model": self.model,
            "gen_ai.request.stream": streaming,
            "server.address": client.base_url.host,
        }
        if client.base_url.port is not None:
            attributes["server.port"] = client.base_url.port
        with (
            self._tracer.start_as_current_span(
                f"{OPERATION} {self.model}", kind=SpanKind.CLIENT, attributes=attributes
            ) as span,
            untraced_http(),
        ):
            yield span

    def _failed(self, span: Span, start: float, exc: Exception) -> LlmError:
        error = _classify(exc)
        self._observe(start, error.error_type)
        span.set_attribute("error.type", error.error_type)
        span.set_status(Status(StatusCode.ERROR, str(error)))
        return error

    async def plan(
        self, messages: list[dict[str, Any]], tools: Sequence[dict[str, Any]]
    ) -> ChatCompletionMessage:
        """One function-calling completion: the assistant message, maybe with tool calls."""
        client, headers = self._target()
        with self._span(client, streaming=False) as span:
            start = time.perf_counter()
            try:
                response = await client.chat.completions.create(
                    model=self.model,
                    messages=messages,  # type: ignore[arg-type]
                    tools=list(tools),  # type: ignore[arg-type]
                    extra_headers=headers or None,
                )
            except Exception as exc:
                raise self._failed(span, start, exc) from exc
            self._observe(start, "")
            span.set_attribute("gen_ai.response.model", response.model)
            span.set_attribute("gen_ai.response.id", response.id)
            span.set_attribute("gen_ai.response.finish_reasons", [c.finish_reason for c in response.choices])
            if response.usage is not None:
                self._record_usage(span, response.usage.prompt_tokens, response.usage.completion_tokens)
            if not response.choices:
                raise LlmError("LLM_ERROR", "other", "LLM answered without choices")
            return response.choices[0].message

    async def stream_answer(self, messages: list[dict[str, Any]], on_delta: OnDelta) -> str:
        """Stream the final answer, handing each non-empty delta to ``on_delta``; returns the text.

        Usage is recorded from the last chunk (``stream_options.include_usage``). A
        cancelled call (the client went away) is neither a success nor an LLM error.
        """
        client, headers = self._target()
        parts: list[str] = []
        with self._span(client, streaming=True) as span:
            start = time.perf_counter()
            usage = None
            try:
                stream = await client.chat.completions.create(  # type: ignore[call-overload]
                    model=self.model,
                    messages=messages,
                    stream=True,
                    stream_options={"include_usage": True},
                    extra_headers=headers or None,
                )
                async with stream:
                    async for chunk in stream:
                        if chunk.usage is not None:
                            usage = chunk.usage
                        for choice in chunk.choices:
                            if choice.delta.content:
                                parts.append(choice.delta.content)
                                await on_delta(choice.delta.content)
            except Exception as exc:
                raise self._failed(span, start, exc) from exc
            self._observe(start, "")
            if usage is not None:
                self._record_usage(span, usage.prompt_tokens, usage.completion_tokens)
        return "".join(parts)

    async def check(self) -> str | None:
        """Readiness: None when the model endpoint answers ``GET /models``, else why not."""
        client, _ = self._target()
        try:
            await client.with_options(timeout=2.0).models.list()
        except Exception as exc:
            return str(_classify(exc))
        return None
