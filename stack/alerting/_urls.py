"""Point Alertmanager's receivers at real services without editing ``alertmanager.yml``.

Alertmanager 0.28 expands no environment variables and has no ``*_file`` form for the
PagerDuty URL, so whoever starts it renders the file first (one way for every URL): each
default value below is, in ``provisioning/alertmanager/alertmanager.yml``, exactly one whole
YAML value, replaced by the value of its environment variable when that is set and not empty.

The match is made on the parsed document, never on the text: comments (the file's header
documents every variable) and values that merely contain a default are left alone.

Usage::

    doc = override_urls(yaml.safe_load(text), os.environ)   # the renderers
    text = apply_url_overrides(text, os.environ)            # text in, text out
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import yaml

__all__ = ["URL_OVERRIDES", "apply_url_overrides", "override_urls"]

# Environment variable -> the default it replaces (the bundle's own notification receiver).
URL_OVERRIDES: dict[str, str] = {
    "ALERTMANAGER_PAGERDUTY_URL": "http://receiver:8300/pagerduty/v2/enqueue",
    "ALERTMANAGER_PAGERDUTY_ROUTING_KEY": "bundle-receiver-routing-key",
    "ALERTMANAGER_SLACK_ALERTS_URL": "http://receiver:8300/slack/alerts",
    "ALERTMANAGER_SLACK_SECURITY_URL": "http://receiver:8300/slack/security",
    "ALERTMANAGER_HEARTBEAT_URL": "http://receiver:8300/webhook/heartbeat",
}


def _count(node: Any, value: str) -> int:
    """How many string values (not keys) of a parsed document equal ``value``."""
    if isinstance(node, str):
        return int(node == value)
    if isinstance(node, list):
        return sum(_count(x, value) for x in node)
    if isinstance(node, dict):
        return sum(_count(x, value) for x in node.values())
    return 0


def _replace(node: Any, old: str, new: str) -> Any:
    if isinstance(node, str):
        return new if node == old else node
    if isinstance(node, list):
        return [_replace(x, old, new) for x in node]
    if isinstance(node, dict):
        return {k: _replace(x, old, new) for k, x in node.items()}
    return node


def override_urls(
    config: dict[str, Any], env: Mapping[str, str], source: str = "alertmanager.yml"
) -> dict[str, Any]:
    """A copy of the parsed ``config`` with each default replaced by its variable's value,
    for every variable of :data:`URL_OVERRIDES` that is set and not empty.

    Raises ValueError naming the file and the variable when its default is not exactly one
    whole value of the document, so a renamed URL cannot silently stop being overridable
    and an override never lands in two places.
    """
    out = copy.deepcopy(config)
    for var, default in URL_OVERRIDES.items():
        value = env.get(var, "")
        if not value:
            continue
        count = _count(out, default)
        if count != 1:
            raise ValueError(
                f"{source}: {var} is set, but its default {default!r} is {count} values of the "
                "file, expected exactly one (was the receiver renamed?)"
            )
        out = _replace(out, default, value)
    return out


def apply_url_overrides(config_text: str, env: Mapping[str, str]) -> str:
    """``config_text`` with the overrides of :func:`override_urls` applied.

    Unchanged (comments and all) when no variable is set; else the re-serialised document,
    which Alertmanager reads the same way but without the comments.
    """
    if not any(env.get(var) for var in URL_OVERRIDES):
        return config_text
    config = yaml.safe_load(config_text)
    if not isinstance(config, dict):
        raise ValueError("alertmanager.yml: expected a mapping at the top level")
    return yaml.safe_dump(override_urls(config, env), sort_keys=False, width=110)
