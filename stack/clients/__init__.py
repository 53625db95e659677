"""Small typed clients of the stack's HTTP APIs; every ``wait_*`` polls with a timeout and
raises :class:`WaitTimeout` naming the condition and the last state seen."""

from __future__ import annotations

from stack.clients._base import ApiError, WaitTimeout, poll
from stack.clients.alertmanager import AlertmanagerClient
from stack.clients.backend import BackendAdmin
from stack.clients.prometheus import PrometheusClient
from stack.clients.receiver import ReceiverClient
from stack.clients.versions import component_versions

__all__ = [
    "AlertmanagerClient",
    "ApiError",
    "BackendAdmin",
    "PrometheusClient",
    "ReceiverClient",
    "WaitTimeout",
    "component_versions",
    "poll",
]
