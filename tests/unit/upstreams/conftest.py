"""A served upstreams app shared by this directory's tests (real HTTP on a free port)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sample_backend.upstreams import UpstreamsSettings, create_app
from tests.support.servers import serve

CRM_KEY = "test-crm-key"


@pytest.fixture(scope="session")
def upstreams_url() -> Iterator[str]:
    # Near-zero latencies keep the suite fast; the latency code path still runs.
    settings = UpstreamsSettings(
        port=0,
        crm_api_key=CRM_KEY,
        llm_latency_seconds=0.001,
        llm_token_interval_seconds=0.0,
        tool_latency_seconds=0.001,
        a2a_latency_seconds=0.001,
    )
    with serve(create_app(settings)) as url:
        yield url
