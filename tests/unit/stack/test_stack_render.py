"""``python -m stack render``: the provisioning files as the native runner renders them,
for either address space, in production or drill mode, with the URL overrides applied."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from stack import cli
from stack.alerting import URL_OVERRIDES
from stack.native.render import Drill
from stack.native.settings import REPO_ROOT

PROVISIONING = REPO_ROOT / "provisioning"
COMPOSE_ONLY_JOBS = {"grafana", "loki", "tempo", "alloy"}


def render(out: Path, *flags: str) -> Path:
    assert cli.main(["render", "--out", str(out), *flags]) == 0
    return out


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def jobs(out: Path) -> dict[str, dict[str, Any]]:
    return {j["job_name"]: j for j in load(out / "prometheus" / "prometheus.yml")["scrape_configs"]}


def targets(out: Path) -> set[str]:
    return {t for j in jobs(out).values() for s in j.get("static_configs", []) for t in s["targets"]}


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own ALERTMANAGER_* variables must not leak into these renders."""
    for var in URL_OVERRIDES:
        monkeypatch.delenv(var, raising=False)


def test_compose_addresses_are_kept_as_written(tmp_path: Path) -> None:
    out = render(tmp_path, "--addresses", "compose")
    source = load(PROVISIONING / "prometheus" / "prometheus.yml")
    rendered = load(out / "prometheus" / "prometheus.yml")
    # Production mode for compose changes nothing but the YAML spelling.
    assert rendered == source
    am = (out / "alertmanager" / "alertmanager.yml").read_text()
    assert "http://receiver:8300/slack/alerts" in am
    assert "127.0.0.1" not in am


def test_native_addresses_follow_the_port_flags(tmp_path: Path) -> None:
    out = render(tmp_path, "--addresses", "native", "--backend-1-port", "18001", "--receiver-port", "18300")
    assert "127.0.0.1:18001" in targets(out)
    assert not {t for t in targets(out) if "backend-1:8000" in t}
    # The instance label keeps its compose spelling through relabelling.
    replacements = {r.get("replacement") for r in jobs(out)["backend"]["relabel_configs"]}
    assert "${1}backend-1:8000${2}" in replacements
    am = (out / "alertmanager" / "alertmanager.yml").read_text()
    assert "http://127.0.0.1:18300/slack/alerts" in am
    assert "receiver:8300" not in am


def test_native_jobs_drops_exactly_the_compose_only_jobs(tmp_path: Path) -> None:
    full = jobs(render(tmp_path / "full", "--addresses", "compose"))
    light = jobs(render(tmp_path / "light", "--addresses", "compose", "--native-jobs"))
    assert set(full) - set(light) == COMPOSE_ONLY_JOBS
    assert {name: full[name] for name in light} == light
    # The native address space never has them either.
    assert not set(jobs(render(tmp_path / "native", "--addresses", "native"))) & COMPOSE_ONLY_JOBS


@pytest.mark.parametrize("factor", [60, 30])
def test_drill_mode_intervals_rules_and_timers(tmp_path: Path, factor: int) -> None:
    out = render(tmp_path, "--drill", "--factor", str(factor))
    glob = load(out / "prometheus" / "prometheus.yml")["global"]
    assert glob == {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"}
    compression = Drill(factor).rule_compression()
    sources = sorted((PROVISIONING / "prometheus" / "rules").glob("*.yml"))
    assert [p.name for p in sorted((out / "prometheus" / "rules").glob("*.yml"))] == [p.name for p in sources]
    for src in sources:
        assert load(out / "prometheus" / "rules" / src.name) == compression.rules(load(src)), src.name
    route = load(out / "alertmanager" / "alertmanager.yml")["route"]
    # 30s / 60 = 0.5 s, floored to 1 s; 30s / 30 = 1 s.
    assert route["group_wait"] == "1s"
    assert route["group_interval"] == {60: "5s", 30: "10s"}[factor]


def test_drill_render_is_the_native_drill_render_but_for_addresses(tmp_path: Path) -> None:
    compose = render(tmp_path / "c", "--drill", "--addresses", "compose", "--native-jobs")
    native = render(tmp_path / "n", "--drill", "--addresses", "native")
    for rule in (native / "prometheus" / "rules").glob("*.yml"):
        assert (compose / "prometheus" / "rules" / rule.name).read_text() == rule.read_text()
    am_c, am_n = (load(d / "alertmanager" / "alertmanager.yml") for d in (compose, native))
    assert am_c["route"] == am_n["route"]
    assert am_c["inhibit_rules"] == am_n["inhibit_rules"]
    jobs_c, jobs_n = jobs(compose), jobs(native)
    assert set(jobs_c) == set(jobs_n)
    for name in jobs_c:
        assert jobs_c[name].get("scrape_interval") == jobs_n[name].get("scrape_interval")


@pytest.mark.parametrize("addresses", ["compose", "native"])
def test_url_overrides_are_applied_in_both_address_spaces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, addresses: str
) -> None:
    monkeypatch.setenv("ALERTMANAGER_SLACK_ALERTS_URL", "https://hooks.slack.test/services/T/B/X")
    monkeypatch.setenv("ALERTMANAGER_PAGERDUTY_ROUTING_KEY", "0123456789abcdef")
    out = render(tmp_path, "--addresses", addresses, "--drill")
    receivers = {r["name"]: r for r in load(out / "alertmanager" / "alertmanager.yml")["receivers"]}
    assert (
        receivers["slack-alerts"]["slack_configs"][0]["api_url"] == "https://hooks.slack.test/services/T/B/X"
    )
    assert receivers["pager"]["pagerduty_configs"][0]["routing_key"] == "0123456789abcdef"
    # Only what was set: the security channel still goes to the bundle's receiver.
    assert receivers["slack-security"]["slack_configs"][0]["api_url"].endswith("/slack/security")


def test_an_override_that_matches_nothing_fails_naming_file_and_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    prov = tmp_path / "provisioning"
    shutil.copytree(PROVISIONING, prov)
    am = prov / "alertmanager" / "alertmanager.yml"
    am.write_text(am.read_text().replace("http://receiver:8300/webhook/heartbeat", "http://receiver:8300/hb"))
    monkeypatch.setenv("STACK_PROVISIONING_DIR", str(prov))
    monkeypatch.setenv("ALERTMANAGER_HEARTBEAT_URL", "https://hb.test/")
    assert cli.main(["render", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert str(am) in err
    assert "ALERTMANAGER_HEARTBEAT_URL" in err
    assert "http://receiver:8300/webhook/heartbeat" in err


def test_out_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["render"])
    assert exc.value.code == 2
    assert "--out" in capsys.readouterr().err


def _check(*argv: str) -> None:
    binary = shutil.which(argv[0])
    if binary is None:
        pytest.fail(f"{argv[0]} not on PATH; the rules tier needs the Debian packages")
    result = subprocess.run([binary, *argv[1:]], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.rules
@pytest.mark.parametrize(
    "flags",
    [
        ("--addresses", "compose"),
        ("--addresses", "compose", "--drill", "--native-jobs"),
        ("--addresses", "compose", "--drill", "--factor", "600"),
        ("--addresses", "native"),
        ("--addresses", "native", "--drill"),
    ],
    ids=lambda f: " ".join(f),
)
def test_rendered_output_passes_promtool_and_amtool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flags: tuple[str, ...]
) -> None:
    for var in URL_OVERRIDES:
        monkeypatch.setenv(var, f"https://example.test/{var.lower()}")
    out = render(tmp_path, *flags)
    _check("promtool", "check", "config", str(out / "prometheus" / "prometheus.yml"))
    _check("promtool", "check", "rules", *map(str, sorted((out / "prometheus" / "rules").glob("*.yml"))))
    # amtool reads the templates through the relative glob, from the copies beside the config.
    _check("amtool", "check-config", str(out / "alertmanager" / "alertmanager.yml"))
