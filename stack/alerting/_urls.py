"""Point Alertmanager's receivers at real services without editing ``alertmanager.yml``.

Alertmanager 0.25 expands no environment variables and has no ``*_file`` form for the
PagerDuty and webhook URLs, so whoever starts it renders the file first: each default value
below appears exactly once in ``provisioning/alertmanager/alertmanager.yml`` and is replaced
by the value of its environment variable when that is set and not empty.

Usage::

    text = apply_url_overrides(path.read_text(), os.environ)
"""

from __future__ import annotations

from collections.abc import Mapping

# Environment variable -> the default it replaces (the bundle's own notification receiver).
URL_OVERRIDES: dict[str, str] = {
    "ALERTMANAGER_PAGERDUTY_URL": "http://receiver:8300/pagerduty/v2/enqueue",
    "ALERTMANAGER_PAGERDUTY_ROUTING_KEY": "bundle-receiver-routing-key",
    "ALERTMANAGER_SLACK_ALERTS_URL": "http://receiver:8300/slack/alerts",
    "ALERTMANAGER_SLACK_SECURITY_URL": "http://receiver:8300/slack/security",
    "ALERTMANAGER_HEARTBEAT_URL": "http://receiver:8300/webhook/heartbeat",
}


def apply_url_overrides(config_text: str, env: Mapping[str, str]) -> str:
    """Return ``config_text`` with each default replaced by its variable's value, when set.

    Raises ValueError naming the variable when its default is not exactly once in the text,
    so a renamed URL cannot silently stop being overridable.
    """
    for var, default in URL_OVERRIDES.items():
        value = env.get(var, "")
        if not value:
            continue
        count = config_text.count(default)
        if count != 1:
            raise ValueError(
                f"alertmanager.yml: the default of {var} ({default}) occurs {count} times, expected once"
            )
        config_text = config_text.replace(default, value)
    return config_text
