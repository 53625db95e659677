"""Rendering the provisioning files for the native stack changes addresses (and, in drill
mode, timers) and nothing else; URL overrides replace whole values."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from stack.native.render import (
    Drill,
    RenderError,
    address_map,
    drill_of,
    native_target,
    render_alertmanager,
    render_all,
    render_prometheus,
)
from stack.native.settings import REPO_ROOT, StackSettings

PROVISIONING = REPO_ROOT / "provisioning"

PROMETHEUS_YML = """
global:
  scrape_interval: 15s
  evaluation_interval: 15s
rule_files: [rules/*.yml]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["alertmanager:9093"]
scrape_configs:
  - job_name: backend
    scrape_interval: 5s
    static_configs:
      - targets: ["backend-1:8000", "backend-2:8000"]
        labels: {tier: app}
  - job_name: blackbox-health
    metrics_path: /probe
    static_configs:
      - targets: ["http://backend-1:8000/health"]
    relabel_configs: &probe
      - source_labels: [__address__]
        target_label: __param_target
      - target_label: __address__
        replacement: "blackbox:9115"
  - job_name: blackbox-readiness
    static_configs:
      - targets: ["http://backend-2:8000/readiness"]
    relabel_configs: *probe
  - job_name: grafana
    static_configs:
      - targets: ["grafana:3000"]
  - job_name: mixed
    static_configs:
      - targets: ["loki:3100", "upstreams:8100"]
"""

# The header repeats the defaults: overrides match parsed values, never comments.
ALERTMANAGER_YML = """# Header
#   ALERTMANAGER_PAGERDUTY_URL           http://receiver:8300/pagerduty/v2/enqueue
#   ALERTMANAGER_PAGERDUTY_ROUTING_KEY   bundle-receiver-routing-key
#   ALERTMANAGER_HEARTBEAT_URL           http://receiver:8300/webhook/heartbeat
templates: [templates/*.tmpl]
route:
  receiver: pager
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - receiver: heartbeat
      group_wait: 0s
      group_interval: 1m
      repeat_interval: 1m
receivers:
  - name: pager
    pagerduty_configs:
      - url: http://receiver:8300/pagerduty/v2/enqueue
        routing_key: bundle-receiver-routing-key
  - name: heartbeat
    webhook_configs:
      - url: http://receiver:8300/webhook/heartbeat
"""


def settings(**kw: Any) -> StackSettings:
    return StackSettings(backend_1_port=18001, backend_2_port=18002, blackbox_port=19115, **kw)


def prometheus(doc: dict[str, Any], s: StackSettings) -> dict[str, Any]:
    """What the native runner renders for ``s``."""
    return render_prometheus(doc, native_target(s), drill_of(s))


def alertmanager(text: str, s: StackSettings, env: dict[str, str]) -> dict[str, Any]:
    return render_alertmanager(yaml.safe_load(text), native_target(s), drill_of(s), env)


def test_address_map_follows_the_configured_ports() -> None:
    amap = address_map(settings(receiver_port=18300))
    assert amap["backend-1:8000"] == "127.0.0.1:18001"
    assert amap["backend-2:8000"] == "127.0.0.1:18002"
    assert amap["receiver:8300"] == "127.0.0.1:18300"
    assert amap["prometheus:9090"] == "127.0.0.1:9090"


def test_prometheus_addresses_rendered_compose_only_targets_dropped() -> None:
    out = prometheus(yaml.safe_load(PROMETHEUS_YML), settings())
    jobs = {j["job_name"]: j for j in out["scrape_configs"]}
    assert list(jobs) == ["backend", "blackbox-health", "blackbox-readiness", "mixed"]
    assert jobs["backend"]["static_configs"] == [
        {"targets": ["127.0.0.1:18001", "127.0.0.1:18002"], "labels": {"tier": "app"}}
    ]
    assert jobs["mixed"]["static_configs"][0]["targets"] == ["127.0.0.1:8100"]
    assert jobs["blackbox-health"]["static_configs"][0]["targets"] == ["http://127.0.0.1:18001/health"]
    assert jobs["blackbox-health"]["relabel_configs"][1]["replacement"] == "127.0.0.1:19115"
    assert out["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["127.0.0.1:9093"]
    # Not drill mode: intervals and rule files exactly as written.
    assert out["global"] == {"scrape_interval": "15s", "evaluation_interval": "15s"}
    assert jobs["backend"]["scrape_interval"] == "5s"
    assert out["rule_files"] == ["rules/*.yml"]


def test_instance_label_keeps_its_compose_spelling() -> None:
    out = prometheus(yaml.safe_load(PROMETHEUS_YML), settings())
    jobs = {j["job_name"]: j for j in out["scrape_configs"]}
    relabels = jobs["backend"]["relabel_configs"]
    # Default the instance to the address, then map the native address back.
    assert relabels[0]["regex"] == ";(.*)"
    back = {r["replacement"] for r in relabels[1:]}
    assert back == {"${1}backend-1:8000${2}", "${1}backend-2:8000${2}"}
    # The YAML anchor shared by the two probe jobs is not appended to twice.
    health = jobs["blackbox-health"]["relabel_configs"]
    readiness = jobs["blackbox-readiness"]["relabel_configs"]
    assert health is not readiness
    back_rules = [r for r in health if r.get("replacement", "").startswith("${1}")]
    assert back_rules[0] == {
        "source_labels": ["instance"],
        "regex": r"(.*)127\.0\.0\.1:18001(/.*|)",
        "target_label": "instance",
        "replacement": "${1}backend-1:8000${2}",
    }
    # Only addresses the job can produce: the probed backend and the exporter it scrapes.
    assert [r["replacement"] for r in back_rules] == ["${1}backend-1:8000${2}", "${1}blackbox:9115${2}"]


def test_without_the_load_generator_its_job_is_dropped() -> None:
    doc = yaml.safe_load(PROMETHEUS_YML)
    doc["scrape_configs"].append({"job_name": "loadgen", "static_configs": [{"targets": ["loadgen:8200"]}]})
    jobs = [j["job_name"] for j in prometheus(doc, settings(loadgen=False))["scrape_configs"]]
    assert "loadgen" not in jobs
    assert "loadgen" in [j["job_name"] for j in prometheus(doc, settings())["scrape_configs"]]


def test_drill_mode_sets_one_second_intervals() -> None:
    out = prometheus(yaml.safe_load(PROMETHEUS_YML), settings(drill=True))
    assert out["global"] == {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"}
    assert out["scrape_configs"][0]["scrape_interval"] == "1s"


def test_prometheus_without_scrape_configs_names_the_key() -> None:
    with pytest.raises(RenderError, match="scrape_configs"):
        render_prometheus({"global": {}}, native_target(settings()), None, "p.yml")


def test_an_override_whose_default_is_not_in_the_file_is_an_error() -> None:
    text = ALERTMANAGER_YML.replace("http://receiver:8300/webhook/heartbeat", "http://elsewhere:1/")
    with pytest.raises(RenderError, match="ALERTMANAGER_HEARTBEAT_URL is set, but its default"):
        alertmanager(text, settings(), {"ALERTMANAGER_HEARTBEAT_URL": "http://x"})


def test_a_default_that_is_only_part_of_a_value_is_not_overridden() -> None:
    text = ALERTMANAGER_YML.replace(
        "url: http://receiver:8300/webhook/heartbeat", "url: http://receiver:8300/webhook/heartbeat/v2"
    )
    with pytest.raises(RenderError, match="ALERTMANAGER_HEARTBEAT_URL"):
        alertmanager(text, settings(), {"ALERTMANAGER_HEARTBEAT_URL": "http://x"})


@pytest.mark.parametrize(
    "var",
    [
        "ALERTMANAGER_PAGERDUTY_URL",
        "ALERTMANAGER_PAGERDUTY_ROUTING_KEY",
        "ALERTMANAGER_SLACK_ALERTS_URL",
        "ALERTMANAGER_SLACK_SECURITY_URL",
        "ALERTMANAGER_HEARTBEAT_URL",
    ],
)
def test_every_documented_override_changes_the_real_file(var: str) -> None:
    source = PROVISIONING / "alertmanager" / "alertmanager.yml"
    if not source.is_file():
        pytest.skip("provisioning/alertmanager/alertmanager.yml not written yet")
    text = source.read_text()
    plain = alertmanager(text, settings(), {})
    changed = alertmanager(text, settings(), {var: "https://x.test/v"})
    assert "https://x.test/v" not in repr(plain)
    assert repr(changed).count("https://x.test/v") == 1


def test_alertmanager_urls_rendered_and_overridden() -> None:
    env = {
        "ALERTMANAGER_PAGERDUTY_URL": "https://events.pagerduty.com/v2/enqueue",
        "ALERTMANAGER_PAGERDUTY_ROUTING_KEY": "k",
    }
    out = alertmanager(ALERTMANAGER_YML, settings(receiver_port=18300), env)
    pd = out["receivers"][0]["pagerduty_configs"][0]
    assert pd == {"url": "https://events.pagerduty.com/v2/enqueue", "routing_key": "k"}
    assert out["receivers"][1]["webhook_configs"][0]["url"] == "http://127.0.0.1:18300/webhook/heartbeat"
    # Relative as written: the templates are copied next to the rendered file.
    assert out["templates"] == ["templates/*.tmpl"]
    assert out["route"]["group_wait"] == "30s", "timers untouched outside drill mode"


def test_alertmanager_drill_timers_compressed_with_a_one_second_floor() -> None:
    out = alertmanager(ALERTMANAGER_YML, settings(drill=True), {})
    route = out["route"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == ("1s", "5s", "4m")
    child = route["routes"][0]
    assert (child["group_wait"], child["group_interval"], child["repeat_interval"]) == ("0s", "1s", "1s")


def test_alertmanager_bad_timer_names_its_path() -> None:
    doc = yaml.safe_load(ALERTMANAGER_YML)
    doc["route"]["routes"][0]["group_interval"] = "soon"
    with pytest.raises(RenderError, match=r"route\.routes\[0\]\.group_interval"):
        render_alertmanager(doc, native_target(settings()), Drill(60), {})


def _fake_provisioning(root: Path) -> Path:
    prov = root / "provisioning"
    (prov / "prometheus" / "rules").mkdir(parents=True)
    (prov / "alertmanager").mkdir()
    (prov / "blackbox").mkdir()
    (prov / "prometheus" / "prometheus.yml").write_text(PROMETHEUS_YML)
    (prov / "prometheus" / "rules" / "a.yml").write_text(
        "# a comment kept verbatim\n"
        "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: rate(x[5m]) > 0.05\n    for: 5m\n"
    )
    (prov / "alertmanager" / "alertmanager.yml").write_text(ALERTMANAGER_YML)
    (prov / "alertmanager" / "templates").mkdir()
    (prov / "alertmanager" / "templates" / "a.tmpl").write_text('{{ define "a" }}a{{ end }}\n')
    (prov / "blackbox" / "blackbox.yml").write_text("modules: {}\n")
    return prov


def test_render_all_copies_rules_verbatim_outside_drill_mode(tmp_path: Path) -> None:
    prov = _fake_provisioning(tmp_path)
    rendered = render_all(settings(provisioning_dir=prov, run_dir=tmp_path / "run"), {})
    assert [p.read_text() for p in rendered.rule_files] == [(prov / "prometheus/rules/a.yml").read_text()]
    assert rendered.prometheus_config.read_text().startswith("# Rendered by `python -m stack render`")
    assert rendered.templates == [tmp_path / "run" / "alertmanager" / "templates" / "a.tmpl"]
    assert rendered.blackbox_config.read_text() == "modules: {}\n"


def test_a_deleted_template_does_not_linger_in_the_rendered_tree(tmp_path: Path) -> None:
    prov = _fake_provisioning(tmp_path)
    s = settings(provisioning_dir=prov, run_dir=tmp_path / "run")
    render_all(s, {})
    (prov / "alertmanager" / "templates" / "a.tmpl").rename(prov / "alertmanager" / "templates" / "b.tmpl")
    assert [p.name for p in render_all(s, {}).templates] == ["b.tmpl"]
    assert sorted(p.name for p in (tmp_path / "run" / "alertmanager" / "templates").iterdir()) == ["b.tmpl"]


def test_a_template_glob_outside_the_config_directory_is_an_error(tmp_path: Path) -> None:
    prov = _fake_provisioning(tmp_path)
    am = prov / "alertmanager" / "alertmanager.yml"
    am.write_text(am.read_text().replace("templates: [templates/*.tmpl]", "templates: [../*.tmpl]"))
    with pytest.raises(RenderError, match=r"templates entry '\.\./\*\.tmpl' leaves"):
        render_all(settings(provisioning_dir=prov, run_dir=tmp_path / "run"), {})


def test_render_all_compresses_rules_in_drill_mode(tmp_path: Path) -> None:
    prov = _fake_provisioning(tmp_path)
    rendered = render_all(
        settings(provisioning_dir=prov, run_dir=tmp_path / "run", drill=True, factor=60), {}
    )
    rule = yaml.safe_load(rendered.rule_files[0].read_text())["groups"][0]["rules"][0]
    assert rule == {"alert": "A", "expr": "rate(x[5s]) > 0.05", "for": "5s"}


def test_render_all_names_a_missing_file(tmp_path: Path) -> None:
    prov = _fake_provisioning(tmp_path)
    (prov / "blackbox" / "blackbox.yml").unlink()
    with pytest.raises(RenderError, match=r"blackbox\.yml: file not found"):
        render_all(settings(provisioning_dir=prov, run_dir=tmp_path / "run"), {})


def test_render_all_names_bad_yaml(tmp_path: Path) -> None:
    prov = _fake_provisioning(tmp_path)
    (prov / "prometheus" / "prometheus.yml").write_text("global: [unclosed\n")
    with pytest.raises(RenderError, match=r"prometheus\.yml: not valid YAML"):
        render_all(settings(provisioning_dir=prov, run_dir=tmp_path / "run"), {})


@pytest.mark.rules
@pytest.mark.parametrize("drill", [False, True])
def test_real_provisioning_renders_to_configs_promtool_and_amtool_accept(tmp_path: Path, drill: bool) -> None:
    if not (PROVISIONING / "prometheus" / "prometheus.yml").is_file():
        pytest.skip("provisioning/prometheus/prometheus.yml not written yet")
    rendered = render_all(StackSettings(run_dir=tmp_path, drill=drill), {})
    for tool, args in (
        ("promtool", ["check", "config", str(rendered.prometheus_config)]),
        ("amtool", ["check-config", str(rendered.alertmanager_config)]),
    ):
        binary = shutil.which(tool)
        assert binary
        result = subprocess.run([binary, *args], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
    jobs = {j["job_name"] for j in yaml.safe_load(rendered.prometheus_config.read_text())["scrape_configs"]}
    assert not jobs & {"grafana", "loki", "tempo", "alloy"}
    assert {"backend", "prometheus", "alertmanager", "receiver"} <= jobs
    assert "receiver:8300" not in rendered.alertmanager_config.read_text()
