"""Configuration of the sample backend: one ``BackendSettings`` read from ``BACKEND_*``.

Every value is validated when the process starts, so a bad value fails there naming
the key (``BACKEND_DB_POOL_SIZE: Input should be greater than 0``) instead of breaking
the first request that needs it.

Usage::

    settings = BackendSettings()                      # from the environment
    settings = BackendSettings(port=0, admin_token="t")  # in tests
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ROLES", "BackendSettings", "SettingsError", "load_settings"]

ROLES = ("user", "admin")


class SettingsError(RuntimeError):
    """Configuration that cannot be used; the message names every bad key."""


class BackendSettings(BaseSettings):
    """All ``BACKEND_*`` settings with their defaults (the development setup)."""

    model_config = SettingsConfigDict(env_prefix="BACKEND_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8001, ge=0, le=65535)
    instance_name: str = Field(default="backend-1", min_length=1)
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR|debug|info|warning|error)$")

    llm_base_url: str = "http://127.0.0.1:8100/v1"
    llm_api_key: str = "sk-local-simulated"
    llm_model: str = Field(default="gpt-4o-mini", min_length=1)
    # A real endpoint can take tens of seconds for a long answer; the simulated one
    # answers in milliseconds unless a latency fault is on (at most minutes).
    llm_timeout_seconds: float = Field(default=60.0, gt=0)
    tools_base_url: str = "http://127.0.0.1:8100/tools"
    upstream_timeout_seconds: float = Field(default=30.0, gt=0)
    a2a_agents: dict[str, str] = {
        "research-agent": "http://127.0.0.1:8100/a2a/research-agent",
        "billing-agent": "http://127.0.0.1:8100/a2a/billing-agent",
    }

    admin_token: str = ""
    auth_tokens: dict[str, str] = {"dev-user-token": "user", "dev-admin-token": "admin"}
    crm_api_key: str = "dev-crm-key"

    db_pool_size: int = Field(default=10, gt=0, le=10_000)
    # How long a query waits for a pooled connection before the run fails.
    db_pool_timeout_seconds: float = Field(default=2.0, gt=0)
    db_storage_capacity_bytes: int = Field(default=10 * 1024**3, gt=0)
    cache_max_entries: int = Field(default=10_000, gt=0)
    cache_ttl_seconds: float = Field(default=60.0, gt=0)

    memory_limit_bytes: int = Field(default=536_870_912, gt=0)
    cpu_limit_cores: float = Field(default=1.0, gt=0)
    token_budget_daily: int = Field(default=2_000_000, gt=0)
    # 256 KiB holds a long conversation; anything larger is a mistake or an attack.
    max_body_bytes: int = Field(default=256 * 1024, gt=0)
    # false: no tracer set-up, no spans, no HTTP RED middleware, no exemplars — the
    # baseline the benchmark compares the instrumented service against.
    telemetry_enabled: bool = True

    @field_validator("auth_tokens")
    @classmethod
    def _known_roles(cls, value: dict[str, str]) -> dict[str, str]:
        bad = sorted({role for role in value.values() if role not in ROLES})
        if bad:
            raise ValueError(f"unknown role(s) {', '.join(bad)}; valid roles: {', '.join(ROLES)}")
        if any(not token for token in value):
            raise ValueError("tokens must not be empty")
        return value

    @field_validator("a2a_agents")
    @classmethod
    def _http_urls(cls, value: dict[str, str]) -> dict[str, str]:
        for name, url in value.items():
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"agent {name!r} needs an http(s) base URL, got {url!r}")
        return value

    @field_validator("llm_base_url", "tools_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL, got {value!r}")
        return value.rstrip("/")


def load_settings(**overrides: Any) -> BackendSettings:
    """Settings from the environment; a ``SettingsError`` names each bad ``BACKEND_*`` key."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError as SourceError

    try:
        return BackendSettings(**overrides)
    except SourceError as exc:
        # A value that is not even JSON (for the map settings) fails while reading the
        # environment, before validation; its message names the field in quotes.
        match = re.search(r'field "(\w+)"', str(exc))
        key = f"BACKEND_{match.group(1).upper()}" if match else "a BACKEND_* variable"
        raise SettingsError(f"invalid backend configuration:\n  {key}: not valid JSON ({exc})") from exc
    except ValidationError as exc:
        lines = [
            f"BACKEND_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        ]
        raise SettingsError("invalid backend configuration:\n  " + "\n  ".join(lines)) from exc
