"""Alertmanager URL overrides replace whole parsed values: a comment, or a longer value that
merely contains a default, neither blocks nor receives an override."""

from __future__ import annotations

import pytest
import yaml

from stack.alerting import URL_OVERRIDES, apply_url_overrides
from stack.alerting._urls import override_urls
from stack.native.settings import REPO_ROOT

TEXT = (REPO_ROOT / "provisioning" / "alertmanager" / "alertmanager.yml").read_text()
EVERY = {var: f"https://example.test/{var.lower()}" for var in URL_OVERRIDES}


def test_a_header_that_repeats_every_default_does_not_block_the_overrides() -> None:
    header = "".join(f"#   {var}   {default}\n" for var, default in URL_OVERRIDES.items())
    rendered = yaml.safe_load(apply_url_overrides(header + TEXT, EVERY))
    values = set(_strings(rendered))
    assert set(EVERY.values()) <= values
    assert not set(URL_OVERRIDES.values()) & values


def test_only_whole_values_are_replaced() -> None:
    config = {"a": "http://receiver:8300/slack/alerts", "b": ["http://receiver:8300/slack/alerts/old"]}
    out = override_urls(config, {"ALERTMANAGER_SLACK_ALERTS_URL": "https://hooks.test/x"})
    assert out == {"a": "https://hooks.test/x", "b": ["http://receiver:8300/slack/alerts/old"]}
    assert config["a"] == "http://receiver:8300/slack/alerts", "the input is not modified"


def test_a_default_used_twice_is_an_error_naming_the_count() -> None:
    config = {"a": "bundle-receiver-routing-key", "b": "bundle-receiver-routing-key"}
    with pytest.raises(ValueError, match=r"ALERTMANAGER_PAGERDUTY_ROUTING_KEY .* is 2 values"):
        override_urls(config, {"ALERTMANAGER_PAGERDUTY_ROUTING_KEY": "k"}, "am.yml")


def test_without_overrides_the_text_is_returned_as_is() -> None:
    assert apply_url_overrides(TEXT, {var: "" for var in URL_OVERRIDES}) == TEXT


def _strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []
