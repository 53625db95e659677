"""Which Prometheus, Alertmanager and blackbox exporter a running stack is made of, as each
reports itself: the same question for the native processes and the compose containers."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from stack.clients._base import ApiError
from stack.clients.alertmanager import AlertmanagerClient
from stack.clients.prometheus import PrometheusClient

__all__ = ["component_versions"]


def _blackbox_version(url: str, timeout: float) -> str:
    resp = httpx.get(f"{url}/metrics", timeout=timeout)
    resp.raise_for_status()
    for family in text_string_to_metric_families(resp.text):
        if family.name == "blackbox_exporter_build_info":
            return family.samples[0].labels["version"]
    raise ApiError(f"{url}/metrics has no blackbox_exporter_build_info")


def component_versions(urls: dict[str, str], timeout: float = 5.0) -> dict[str, str]:
    """``{"prometheus": "3.5.3+ds1", ...}`` for each of the three found in ``urls``; a
    component that does not answer is reported as ``"unreachable: <why>"``."""
    probes: dict[str, Callable[[str], str]] = {
        "prometheus": lambda url: PrometheusClient(url, timeout).build_version(),
        "alertmanager": lambda url: AlertmanagerClient(url, timeout).version(),
        "blackbox": lambda url: _blackbox_version(url, timeout),
    }
    versions = {}
    for name, probe in probes.items():
        if name not in urls:
            continue
        try:
            versions[name] = probe(urls[name])
        except (httpx.HTTPError, ApiError, KeyError, IndexError, ValueError) as exc:
            versions[name] = f"unreachable: {type(exc).__name__}: {exc}"
    return versions
