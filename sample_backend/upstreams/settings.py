"""Configuration of the simulated upstreams: one ``UpstreamsSettings`` read from ``UPSTREAMS_*``.

Usage::

    settings = load_settings()            # from the environment; SettingsError names bad keys
    settings = UpstreamsSettings(port=0)  # in tests
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["SettingsError", "UpstreamsSettings", "load_settings"]


class SettingsError(RuntimeError):
    """Configuration that cannot be used; the message names every bad key."""


class UpstreamsSettings(BaseSettings):
    """All ``UPSTREAMS_*`` settings with their defaults (the development setup)."""

    model_config = SettingsConfigDict(env_prefix="UPSTREAMS_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8100, ge=0, le=65535)
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR|debug|info|warning|error)$")
    # Credential the CRM tool API demands; the backend's BACKEND_CRM_API_KEY must match.
    crm_api_key: str = Field(default="dev-crm-key", min_length=1)
    # Time to first token of a small hosted model is tens of milliseconds.
    llm_latency_seconds: float = Field(default=0.04, ge=0, le=60)
    # Gap between streamed chunks; about what hosted models stream at (a few hundred tokens/s).
    llm_token_interval_seconds: float = Field(default=0.002, ge=0, le=5)
    tool_latency_seconds: float = Field(default=0.015, ge=0, le=60)
    # A peer agent does its own model call, so it is slower than a tool.
    a2a_latency_seconds: float = Field(default=0.06, ge=0, le=60)
    # Relative spread of every latency (0.3 = +-30 %), so latency panels are not flat lines.
    latency_jitter: float = Field(default=0.3, ge=0, le=1)


def load_settings(**overrides: Any) -> UpstreamsSettings:
    """Settings from the environment; a ``SettingsError`` names each bad ``UPSTREAMS_*`` key."""
    try:
        return UpstreamsSettings(**overrides)
    except ValidationError as exc:
        lines = [
            f"UPSTREAMS_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        ]
        raise SettingsError("invalid upstreams configuration:\n  " + "\n  ".join(lines)) from exc
