"""POST /admin/token-budget/reset: admin-only, off without an admin token, starts a new budget day."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from tests.unit.backend.helpers import Backend

PATH = "/admin/token-budget/reset"


def test_reset_drops_used_tokens_to_zero_and_audits(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    backend.run("hello")
    used = backend.value("agent_llm_token_budget_used_tokens")
    assert used > 0
    r = backend.http.post(f"{backend.url}{PATH}", headers=backend.auth(backend.admin_token))
    assert r.status_code == 200, r.text
    assert r.json() == {"used_tokens": 0, "limit_tokens": 2_000_000, "previous_used_tokens": used}
    assert backend.value("agent_llm_token_budget_used_tokens") == 0
    assert backend.value("agent_audit_events_total", event="TOKEN_BUDGET_RESET") == 1
    record = next(r for r in caplog.records if getattr(r, "event", "") == "TOKEN_BUDGET_RESET")
    assert record.levelno == logging.INFO
    assert record.previous_used_tokens == used  # type: ignore[attr-defined]

    # The new day counts from zero.
    backend.run("hello")
    assert 0 < backend.value("agent_llm_token_budget_used_tokens") <= used * 2


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic eDp5"}])
def test_reset_needs_the_admin_token(backend: Backend, headers: dict[str, str]) -> None:
    backend.run("hello")
    used = backend.value("agent_llm_token_budget_used_tokens")
    r = backend.http.post(f"{backend.url}{PATH}", headers=headers)
    assert r.status_code == 401 and r.json()["error"]
    # A user token is a valid token, but not the admin one.
    assert backend.http.post(f"{backend.url}{PATH}", headers=backend.auth()).status_code == 401
    assert backend.value("agent_llm_token_budget_used_tokens") == used
    assert backend.value("agent_audit_events_total", event="TOKEN_BUDGET_RESET") == 0


def test_reset_is_off_without_admin_token(make_backend: Callable[..., Backend]) -> None:
    backend = make_backend(admin_token="")
    r = backend.http.post(f"{backend.url}{PATH}", headers=backend.auth("anything"))
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/json")
