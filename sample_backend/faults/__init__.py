"""Fault control: the catalog of faults and traffic modes, the registry the backend
consults where each fault would really happen, the process effects (CPU, memory) and
the ``/admin/faults`` API.

Usage::

    registry = FaultRegistry(metrics)
    app.include_router(build_router(registry, admin_token))
"""

from __future__ import annotations

from sample_backend.faults.api import build_router
from sample_backend.faults.catalog import CREDENTIAL_TOOLS, FAULTS, KNOWN_AGENTS, KNOWN_TOOLS
from sample_backend.faults.registry import FaultError, FaultRegistry, catalog

__all__ = [
    "CREDENTIAL_TOOLS",
    "FAULTS",
    "KNOWN_AGENTS",
    "KNOWN_TOOLS",
    "FaultError",
    "FaultRegistry",
    "build_router",
    "catalog",
]
