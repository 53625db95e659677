"""The load generator: steady, realistic AG-UI traffic against the backends, plus the
attack traffic of the traffic modes switched on through each backend's fault API.

Run it with ``python -m sample_backend.loadgen`` (``LOADGEN_*`` settings, port 8200).
"""

from __future__ import annotations

from sample_backend.loadgen.app import create_app
from sample_backend.loadgen.generator import LoadGenerator
from sample_backend.loadgen.metrics import LoadgenMetrics
from sample_backend.loadgen.settings import LoadgenSettings, load_settings

__all__ = ["LoadGenerator", "LoadgenMetrics", "LoadgenSettings", "create_app", "load_settings"]
