"""Every address a provisioning file or a service's environment points at names a compose
service and a port that service listens on (published or exposed) - so a renamed service
or a moved port fails here, not in a container that cannot connect."""

from __future__ import annotations

import pytest
import yaml

from tests.compose._bundle import ROOT, addresses, listening, quoted_strings, services, strings

# Every YAML file the containers read (their addresses are compose addresses).
YAML_CONFIGS = (
    "provisioning/prometheus/prometheus.yml",
    "provisioning/alertmanager/alertmanager.yml",
    "provisioning/blackbox/blackbox.yml",
    "provisioning/grafana/datasources/datasources.yaml",
    "provisioning/loki/loki.yaml",
    "provisioning/tempo/tempo.yaml",
)


def _assert_resolvable(source: str, found: list[tuple[str, str, int | None]]) -> None:
    ports = listening()
    for text, host, port in found:
        assert host in ports, f"{source}: {text!r} names {host}, which is not a compose service"
        assert port is not None, f"{source}: {text!r} has no port"
        assert port in ports[host], f"{source}: {text!r}: {host} listens on {sorted(ports[host])}, not {port}"


@pytest.mark.parametrize("path", YAML_CONFIGS)
def test_yaml_config_addresses_name_compose_services(path: str) -> None:
    file = ROOT / path
    if not file.is_file():
        pytest.skip(f"{path} is not provisioned yet")
    found = addresses(list(strings(yaml.safe_load(file.read_text(encoding="utf-8")))))
    _assert_resolvable(path, found)


def test_prometheus_scrapes_the_compose_only_components() -> None:
    file = ROOT / "provisioning/prometheus/prometheus.yml"
    if not file.is_file():
        pytest.skip("prometheus.yml is not provisioned yet")
    targets = {t for _, h, p in addresses(list(strings(yaml.safe_load(file.read_text())))) for t in [(h, p)]}
    for host, port in (("grafana", 3000), ("loki", 3100), ("tempo", 3200), ("alloy", 12345)):
        assert (host, port) in targets, f"prometheus.yml has no scrape target {host}:{port}"


def test_alloy_endpoints_name_compose_services() -> None:
    path = "provisioning/alloy/config.alloy"
    found = addresses(quoted_strings((ROOT / path).read_text(encoding="utf-8")))
    hosts = {h for _, h, _ in found}
    assert {"loki", "tempo"} <= hosts, "Alloy must ship logs to Loki and traces to Tempo"
    _assert_resolvable(path, found)


def test_service_environments_name_compose_services() -> None:
    for name, svc in services().items():
        env = svc.get("environment") or {}
        # Comma-separated lists (load targets) hold one address per item.
        values = [item for v in env.values() for item in str(v).split(",")]
        # JSON-valued settings (the A2A agent map) hold URLs inside.
        found = addresses(values) + addresses([u for v in values for u in _json_strings(v)])
        _assert_resolvable(f"compose.yaml services.{name}.environment", found)


def test_loki_ruler_and_tempo_remote_write_point_at_the_stack() -> None:
    loki = yaml.safe_load((ROOT / "provisioning/loki/loki.yaml").read_text())
    assert loki["ruler"]["alertmanager_url"] == "http://alertmanager:9093"
    tempo = yaml.safe_load((ROOT / "provisioning/tempo/tempo.yaml").read_text())
    urls = [rw["url"] for rw in tempo["metrics_generator"]["storage"]["remote_write"]]
    assert urls == ["http://prometheus:9090/api/v1/write"]
    flags = services()["prometheus"]["command"]
    assert "--web.enable-remote-write-receiver" in flags


def test_the_address_finder_rejects_what_it_must() -> None:
    # Guards the helper the checks above rely on: an unknown host or a missing port is found.
    found = addresses(
        ["http://nowhere:1234/x", "http://receiver/slack", "https://example.com/a", "127.0.0.1:9"]
    )
    assert [(h, p) for _, h, p in found] == [("nowhere", 1234), ("receiver", None)]
    with pytest.raises(AssertionError, match="not a compose service"):
        _assert_resolvable("example", found[:1])


def _json_strings(value: str) -> list[str]:
    import json

    try:
        parsed = json.loads(value)
    except ValueError:
        return []
    return list(strings(parsed))
