"""Configuration of the load generator: one ``LoadgenSettings`` read from ``LOADGEN_*``.

Usage::

    settings = load_settings()   # SettingsError names every bad LOADGEN_* key
    settings.target_urls         # ("http://127.0.0.1:8001", "http://127.0.0.1:8002")
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["LoadgenSettings", "SettingsError", "load_settings"]


class SettingsError(RuntimeError):
    """Configuration that cannot be used; the message names every bad key."""


class LoadgenSettings(BaseSettings):
    """All ``LOADGEN_*`` settings with their defaults (the development setup)."""

    model_config = SettingsConfigDict(env_prefix="LOADGEN_", extra="ignore")

    # Comma-separated backend base URLs; steady traffic is split evenly between them.
    targets: str = "http://127.0.0.1:8001,http://127.0.0.1:8002"
    # Steady agent runs per second, over all targets together.
    rate: float = Field(default=6.0, gt=0, le=1000)
    # Steady traffic is open-loop: runs start at `rate` whether or not earlier ones have
    # ended, as real users do. This only caps the runs in flight (over all targets) so a
    # hung backend cannot exhaust the generator; a run that would exceed it is dropped and
    # counted in loadgen_runs_dropped_total. 128 holds 12 runs/s (the drill load) through
    # a 6 s slowdown on a busy host, where runs take longer still.
    max_in_flight: int = Field(default=128, ge=1, le=10_000)
    # In-flight cap for each target's attack traffic (traffic modes), kept apart so an
    # attack cannot starve the steady traffic that the other alerts need.
    attack_concurrency: int = Field(default=16, ge=1, le=1000)
    # Turns a steady conversation lasts (same threadId, growing transcript), drawn
    # uniformly per conversation: chat users ask a few follow-ups, then start afresh.
    conversation_turns_min: int = Field(default=2, ge=1, le=100)
    conversation_turns_max: int = Field(default=6, ge=1, le=100)
    # How long a user reads an answer before the next turn of the same conversation. Short,
    # so few conversations are open at once and their histories stay warm in the cache.
    think_seconds: float = Field(default=1.0, ge=0, le=600)
    user_token: str = Field(default="dev-user-token", min_length=1)
    # Also the fault-API token; empty disables traffic modes (nothing to poll).
    admin_token: str = "dev-admin-token"
    # How often each target's GET /admin/faults is polled for traffic modes.
    poll_interval_seconds: float = Field(default=0.5, gt=0, le=60)
    # A run longer than this is abandoned and counted as a timeout; above the longest
    # latency fault a drill uses, so slow runs are measured, not cut short.
    run_timeout_seconds: float = Field(default=60.0, gt=0, le=3600)
    host: str = "127.0.0.1"
    port: int = Field(default=8200, ge=0, le=65535)
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR|debug|info|warning|error)$")

    @field_validator("targets")
    @classmethod
    def _urls(cls, value: str) -> str:
        urls = [u.strip().rstrip("/") for u in value.split(",") if u.strip()]
        if not urls:
            raise ValueError("at least one backend base URL is required")
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http(s) URL")
        if len(set(urls)) != len(urls):
            raise ValueError("a target is listed twice")
        return ",".join(urls)

    @field_validator("conversation_turns_max")
    @classmethod
    def _turns_ordered(cls, value: int, info: ValidationInfo) -> int:
        low = info.data.get("conversation_turns_min")
        if low is not None and value < low:
            raise ValueError(f"must be at least LOADGEN_CONVERSATION_TURNS_MIN ({low}), got {value}")
        return value

    @property
    def target_urls(self) -> tuple[str, ...]:
        return tuple(self.targets.split(","))


def load_settings(**overrides: Any) -> LoadgenSettings:
    """Settings from the environment; a ``SettingsError`` names each bad ``LOADGEN_*`` key."""
    try:
        return LoadgenSettings(**overrides)
    except ValidationError as exc:
        lines = [
            f"LOADGEN_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        ]
        raise SettingsError("invalid load generator configuration:\n  " + "\n  ".join(lines)) from exc
