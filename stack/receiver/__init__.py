"""Notification receiver: stands in for PagerDuty, Slack and webhooks so tests can read
what Alertmanager sent.

``python -m stack.receiver`` (settings: :class:`ReceiverSettings`, prefix ``RECEIVER_``).
"""

from __future__ import annotations

from stack.receiver.app import create_app
from stack.receiver.parse import Delivery, PayloadError
from stack.receiver.settings import ReceiverSettings

__all__ = ["Delivery", "PayloadError", "ReceiverSettings", "create_app"]
