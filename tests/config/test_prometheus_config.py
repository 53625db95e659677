"""prometheus.yml and blackbox.yml: valid, compose addresses in plain host:port form the native
runner can render, production intervals, and probes whose `instance` is the backend's."""

from __future__ import annotations

import re
import shutil
from typing import Any

import pytest

from tests.rules._support import BLACKBOX_YML, PROMETHEUS_YML, load_yaml, run_tool

CONFIG = load_yaml(PROMETHEUS_YML)
JOBS = {job["job_name"]: job for job in CONFIG["scrape_configs"]}
BACKENDS = ["backend-1:8000", "backend-2:8000"]
HOST_PORT = re.compile(r"^[a-z0-9-]+:\d+$")


def targets(job: str) -> list[str]:
    return [t for sc in JOBS[job]["static_configs"] for t in sc["targets"]]


def relabel(job: dict[str, Any], address: str) -> dict[str, str]:
    """Apply a job's `replace` relabel rules to one target, as Prometheus does."""
    labels = {"__address__": address}
    for rule in job.get("relabel_configs", []):
        assert rule.get("action", "replace") == "replace"
        source = ";".join(labels.get(name, "") for name in rule.get("source_labels", []))
        match = re.fullmatch(rule.get("regex", "(.*)"), source)
        if match:
            labels[rule["target_label"]] = match.expand(rule.get("replacement", "$1").replace("$1", r"\1"))
    return labels


def test_production_intervals() -> None:
    assert CONFIG["global"]["scrape_interval"] == "15s"
    assert CONFIG["global"]["evaluation_interval"] == "15s"
    assert CONFIG["rule_files"] == ["rules/*.yml"]


def test_jobs_are_the_contracts() -> None:
    assert set(JOBS) == {
        "backend",
        "blackbox-health",
        "blackbox-readiness",
        "prometheus",
        "alertmanager",
        "blackbox",
        "upstreams",
        "loadgen",
        "receiver",
        "grafana",
        "loki",
        "tempo",
        "alloy",
    }
    assert targets("backend") == BACKENDS
    for job, address in {
        "prometheus": "prometheus:9090",
        "alertmanager": "alertmanager:9093",
        "blackbox": "blackbox:9115",
        "upstreams": "upstreams:8100",
        "loadgen": "loadgen:8200",
        "receiver": "receiver:8300",
        "grafana": "grafana:3000",
        "loki": "loki:3100",
        "tempo": "tempo:3200",
    }.items():
        assert targets(job) == [address], job


def test_every_address_is_plain_host_port_or_url() -> None:
    addresses = [t for job in JOBS for t in targets(job)]
    addresses += [
        t for am in CONFIG["alerting"]["alertmanagers"] for sc in am["static_configs"] for t in sc["targets"]
    ]
    for address in addresses:
        assert HOST_PORT.match(address) or re.match(r"^http://[a-z0-9-]+:\d+/", address), address


@pytest.mark.parametrize(
    ("job", "path"), [("blackbox-health", "/health"), ("blackbox-readiness", "/readiness")]
)
def test_probes_go_through_the_exporter_and_keep_the_backend_as_instance(job: str, path: str) -> None:
    assert JOBS[job]["metrics_path"] == "/probe"
    assert JOBS[job]["params"] == {"module": ["http_2xx"]}
    for backend, target in zip(BACKENDS, targets(job), strict=True):
        assert target == f"http://{backend}{path}"
        labels = relabel(JOBS[job], target)
        assert labels["__address__"] == "blackbox:9115"
        assert labels["__param_target"] == target
        assert labels["instance"] == backend


@pytest.mark.rules
def test_promtool_accepts_the_config_and_its_rules() -> None:
    result = run_tool("promtool", "check", "config", PROMETHEUS_YML)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 rule files found" in result.stdout


def test_blackbox_module_fails_a_503_readiness() -> None:
    module = load_yaml(BLACKBOX_YML)["modules"]["http_2xx"]
    assert module["prober"] == "http"
    assert module["http"]["valid_status_codes"] == [200]


def test_blackbox_exporter_accepts_its_config() -> None:
    binary = shutil.which("prometheus-blackbox-exporter")
    if binary is None:
        pytest.skip("prometheus-blackbox-exporter not found; install the Debian package")
    result = run_tool(binary, "--config.check", f"--config.file={BLACKBOX_YML}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "deprecated" not in result.stderr
