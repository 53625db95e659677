"""Settings of the notification receiver (environment prefix ``RECEIVER_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ReceiverSettings"]


class ReceiverSettings(BaseSettings):
    """Where the receiver listens and where it keeps its JSON-lines log of deliveries.

    ``RECEIVER_DATA_DIR=.stack/receiver python -m stack.receiver``
    """

    model_config = SettingsConfigDict(env_prefix="RECEIVER_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8300
    # None keeps deliveries in memory only (unit tests); the stack always sets a directory.
    data_dir: Path | None = None
    log_level: str = "INFO"
