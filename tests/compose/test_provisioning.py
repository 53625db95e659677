"""Grafana, Loki, Tempo and Alloy provisioning: fixed datasource uids linked to each other,
retention and structured metadata in Loki, the metrics generator in Tempo, a log-based
alert written like the Prometheus ones, and an Alloy pipeline that keeps trace_id."""

from __future__ import annotations

import re
from typing import Any

import yaml

from tests.compose._bundle import ROOT

RUNBOOK = "https://github.com/agent-observability/alert-proving-ground/blob/main/docs/runbooks.md#"
AREAS = {"availability", "llm", "tools", "a2a", "resources", "security", "slo", "stack"}


def _datasources() -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load((ROOT / "provisioning/grafana/datasources/datasources.yaml").read_text())
    return {d["uid"]: d for d in doc["datasources"]}


def test_datasources_have_the_fixed_uids() -> None:
    ds = _datasources()
    assert {uid: d["type"] for uid, d in ds.items()} == {
        "prometheus": "prometheus",
        "alertmanager": "alertmanager",
        "loki": "loki",
        "tempo": "tempo",
    }
    assert ds["alertmanager"]["jsonData"]["implementation"] == "prometheus"


def test_datasources_link_signals_to_each_other() -> None:
    ds = _datasources()
    exemplars = ds["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]
    assert exemplars == [{"name": "trace_id", "datasourceUid": "tempo"}]
    derived = ds["loki"]["jsonData"]["derivedFields"]
    assert [(f["matcherRegex"], f["datasourceUid"]) for f in derived] == [("trace_id", "tempo")]
    tempo = ds["tempo"]["jsonData"]
    assert tempo["tracesToLogsV2"]["datasourceUid"] == "loki"
    assert "${__trace.traceId}" in tempo["tracesToLogsV2"]["query"].replace("$$", "$")
    assert tempo["tracesToMetrics"]["datasourceUid"] == "prometheus"
    assert tempo["serviceMap"]["datasourceUid"] == "prometheus"


def test_link_variables_are_escaped_from_environment_expansion() -> None:
    # Grafana expands $VAR and ${VAR} in provisioning files; a link variable must be written `$${...}`.
    text = (ROOT / "provisioning/grafana/datasources/datasources.yaml").read_text()
    assert not re.search(r"(?<!\$)\$\{__", text)


def test_dashboard_provider_reads_the_generated_json() -> None:
    doc = yaml.safe_load((ROOT / "provisioning/grafana/dashboards/dashboards.yaml").read_text())
    (provider,) = doc["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/etc/grafana/provisioning/dashboards"
    assert provider["allowUiUpdates"] is False


def test_loki_keeps_logs_for_a_week_with_structured_metadata() -> None:
    loki = yaml.safe_load((ROOT / "provisioning/loki/loki.yaml").read_text())
    assert loki["limits_config"]["retention_period"] == "168h"
    assert loki["compactor"]["retention_enabled"] is True
    assert loki["limits_config"]["allow_structured_metadata"] is True
    assert all(c["schema"] == "v13" and c["store"] == "tsdb" for c in loki["schema_config"]["configs"])
    assert loki["ruler"]["storage"]["local"]["directory"] == "/etc/loki/rules"


def test_loki_alert_rules_follow_the_alert_conventions() -> None:
    files = sorted((ROOT / "provisioning/loki/rules/fake").glob("*.yaml"))
    assert files, "no Loki rule file under provisioning/loki/rules/fake/"
    alerts = [r for f in files for g in yaml.safe_load(f.read_text())["groups"] for r in g["rules"]]
    assert alerts
    for rule in alerts:
        name = rule["alert"]
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", name)
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["labels"]["area"] in AREAS
        assert rule["for"]
        ann = rule["annotations"]
        assert "{{" not in ann["summary"] and "{{ $labels." in ann["description"]
        assert ann["runbook_url"] == RUNBOOK + name.lower()


def test_the_loki_audit_alert_reads_fields_the_pipeline_produces() -> None:
    rule = yaml.safe_load((ROOT / "provisioning/loki/rules/fake/audit.yaml").read_text())["groups"][0][
        "rules"
    ][0]
    expr = rule["expr"]
    assert '{logger="audit"}' in expr and "| json" in expr
    assert 'event="AUTH_GATEWAY_VALIDATION"' in expr and "by (client)" in expr
    assert "logger" in _alloy_labels()


def test_tempo_receives_otlp_and_generates_metrics() -> None:
    tempo = yaml.safe_load((ROOT / "provisioning/tempo/tempo.yaml").read_text())
    protocols = tempo["distributor"]["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"].endswith(":4317") and protocols["http"]["endpoint"].endswith(":4318")
    assert tempo["storage"]["trace"]["backend"] == "local"
    processors = tempo["overrides"]["defaults"]["metrics_generator"]["processors"]
    assert {"service-graphs", "span-metrics"} <= set(processors)


def test_alloy_keeps_trace_id_as_structured_metadata_not_a_label() -> None:
    text = (ROOT / "provisioning/alloy/config.alloy").read_text()
    metadata = re.search(r"stage\.structured_metadata \{(.*?)\n  \}", text, re.S)
    assert metadata and "trace_id" in metadata.group(1)
    assert "trace_id" not in _alloy_labels()


def test_every_non_default_yaml_setting_is_commented() -> None:
    # Each config we own opens with a comment saying what it is for; the settings carry reasons.
    for path in ("provisioning/loki/loki.yaml", "provisioning/tempo/tempo.yaml"):
        lines = (ROOT / path).read_text().splitlines()
        assert lines[0].startswith("#"), path
        assert sum(1 for ln in lines if "#" in ln) * 4 >= len([ln for ln in lines if ln.strip()]), path


def _alloy_labels() -> set[str]:
    """Labels Alloy puts on the log streams: relabel targets and stage.labels keys."""
    text = (ROOT / "provisioning/alloy/config.alloy").read_text()
    labels = set(re.findall(r'target_label\s*=\s*"([a-z_]+)"', text))
    block = re.search(r"stage\.labels \{(.*?)\n  \}", text, re.S)
    assert block
    labels |= set(re.findall(r"^\s*([a-z_]+)\s*=", block.group(1), re.M)) - {"values"}
    return labels
