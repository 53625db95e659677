"""Simulated upstreams of the sample backend, in one process: an OpenAI-compatible LLM,
the HTTP tool API (weather, docs search, CRM) and two A2A peer agents.

Run it with ``python -m sample_backend.upstreams`` (``UPSTREAMS_*`` settings, port 8100).
"""

from __future__ import annotations

from sample_backend.upstreams.app import create_app
from sample_backend.upstreams.settings import UpstreamsSettings, load_settings

__all__ = ["UpstreamsSettings", "create_app", "load_settings"]
