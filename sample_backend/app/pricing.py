"""What LLM calls cost: list prices per model and the daily token budget.

Prices are US dollars per million tokens (input, output) from the providers' public
price lists; a model not in the table is priced at :data:`DEFAULT_PRICE` and labelled
``other`` so an unexpected model name cannot create new series.

The budget counts tokens used since midnight UTC in
``agent_llm_token_budget_used_tokens`` against ``agent_llm_token_budget_limit_tokens``;
it starts again at zero when the UTC day changes, or when an operator resets it
(``POST /admin/token-budget/reset``, see :mod:`sample_backend.app.api.admin`).

Usage::

    cost_usd("gpt-4o-mini", input_tokens=1000, output_tokens=200)   # 0.00027
    budget = TokenBudget(2_000_000, metrics); budget.add(1200)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sample_backend.telemetry.metrics import OTHER, BackendMetrics

__all__ = ["DEFAULT_PRICE", "PRICES", "TokenBudget", "cost_usd", "model_label"]

PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-3.5-turbo": (0.50, 1.50),
}
# Priced like a mid-range model so an unknown model is neither free nor alarming.
DEFAULT_PRICE = (1.00, 4.00)


def model_label(model: str) -> str:
    """The model as a metric label: itself when priced, else ``other``."""
    return model if model in PRICES else OTHER


def cost_usd(model: str, input_tokens: int, output_tokens: int) -> float:
    price_in, price_out = PRICES.get(model, DEFAULT_PRICE)
    return (input_tokens * price_in + output_tokens * price_out) / 1_000_000


def _utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class TokenBudget:
    """Tokens used in the current UTC day, mirrored in the budget gauges."""

    def __init__(
        self, limit: int, metrics: BackendMetrics, today: Callable[[], dt.date] = _utc_today
    ) -> None:
        self._metrics = metrics
        self._today = today
        self._day = today()
        self.limit = limit
        self.used = 0
        metrics.token_budget_limit.set(limit)
        metrics.token_budget_used.set(0)

    def add(self, tokens: int) -> None:
        self._roll_day()
        self.used += tokens
        self._metrics.token_budget_used.set(self.used)

    def refresh(self) -> None:
        """Reset the gauge after midnight UTC even when no call happened (before a scrape)."""
        self._roll_day()
        self._metrics.token_budget_used.set(self.used)

    def reset(self) -> int:
        """Start a new budget day now; returns the tokens the ended one had used."""
        self._day, previous, self.used = self._today(), self.used, 0
        self._metrics.token_budget_used.set(0)
        return previous

    def _roll_day(self) -> None:
        today = self._today()
        if today != self._day:
            self._day, self.used = today, 0
