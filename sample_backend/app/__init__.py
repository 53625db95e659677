"""The Realtime Agent Interaction Backend: an AG-UI agent service with full telemetry.

Usage::

    from sample_backend.app import BackendSettings, create_app
    app = create_app(BackendSettings(port=0))
"""

from __future__ import annotations

from sample_backend.app.main import create_app
from sample_backend.app.settings import BackendSettings

__all__ = ["BackendSettings", "create_app"]
