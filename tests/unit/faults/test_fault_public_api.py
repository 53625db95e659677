"""The public names of the fault, upstreams and load generator packages are what we mean to export."""

from __future__ import annotations

import pytest

import sample_backend.faults as faults
import sample_backend.loadgen as loadgen
import sample_backend.upstreams as upstreams
from sample_backend.upstreams.settings import SettingsError, load_settings


def test_public_names() -> None:
    assert sorted(faults.__all__) == sorted(
        [
            "CREDENTIAL_TOOLS",
            "FAULTS",
            "KNOWN_AGENTS",
            "KNOWN_TOOLS",
            "FaultError",
            "FaultRegistry",
            "build_router",
            "catalog",
        ]
    )
    assert sorted(upstreams.__all__) == ["UpstreamsSettings", "create_app", "load_settings"]
    assert sorted(loadgen.__all__) == sorted(
        ["LoadGenerator", "LoadgenMetrics", "LoadgenSettings", "create_app", "load_settings"]
    )
    for module in (faults, upstreams, loadgen):
        assert all(hasattr(module, name) for name in module.__all__)


def test_upstreams_bad_settings_name_the_key() -> None:
    with pytest.raises(
        SettingsError, match="UPSTREAMS_LLM_LATENCY_SECONDS: Input should be greater than or equal"
    ):
        load_settings(llm_latency_seconds=-1)
    with pytest.raises(SettingsError, match="UPSTREAMS_CRM_API_KEY: String should have at least 1 character"):
        load_settings(crm_api_key="")
