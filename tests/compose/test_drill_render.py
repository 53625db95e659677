"""compose.drill.yaml mounts what ``python -m stack render --drill`` writes, and nothing it
does not: every rendered directory it mounts exists after a render, holds every file the
container reads from it, and Prometheus gets the drill flags the native drill stack uses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from stack import cli
from stack.alerting import URL_OVERRIDES
from stack.native.components import build_components
from stack.native.compose import DRILL_DIR, drill_flag_variables, prometheus_drill_flags
from stack.native.render import render_all
from stack.native.settings import DRILL_ENV, StackSettings
from tests.compose._bundle import ROOT, services

# `${NAME:-default}` as compose interpolates it.
_VARIABLE = re.compile(r"\$\{(?P<name>[A-Z_]+):-(?P<default>[^}]*)\}")
# The production provisioning directory each overridden mount replaces.
PRODUCTION = {"/etc/prometheus": "provisioning/prometheus", "/etc/alertmanager": "provisioning/alertmanager"}


def interpolate(text: str, env: dict[str, str]) -> str:
    return _VARIABLE.sub(lambda m: env.get(m.group("name"), m.group("default")), text)


def bind_mounts(service: dict[str, object], env: dict[str, str]) -> dict[str, Path]:
    """Container path -> host path of a service's bind mounts (named volumes skipped)."""
    mounts: dict[str, Path] = {}
    for volume in service.get("volumes", []) or []:  # type: ignore[attr-defined]
        source, target = interpolate(str(volume), env).split(":")[:2]
        if source.startswith((".", "/")):
            mounts[target] = (ROOT / source).resolve()
    return mounts


def files_under(directory: Path) -> set[str]:
    return {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("compose-drill")
    with pytest.MonkeyPatch.context() as mp:
        # The developer's own receiver URLs must not change what is compared.
        for var in URL_OVERRIDES:
            mp.delenv(var, raising=False)
        assert cli.main(["render", "--drill", "--addresses", "compose", "--out", str(out)]) == 0
    return out


def test_every_mount_of_the_drill_override_is_a_rendered_directory(rendered: Path) -> None:
    drill = services("compose.drill.yaml")
    env = {"DRILL_PROVISIONING": str(rendered)}
    mounted = {target: source for svc in drill.values() for target, source in bind_mounts(svc, env).items()}
    assert set(mounted) == set(PRODUCTION), "the override mounts exactly the rendered configs"
    for target, source in mounted.items():
        assert source.is_dir(), f"{target}: {source} is not written by `stack render`"
        assert source.parent == rendered.resolve()
        # The rendered tree holds every file the container reads from the production mount
        # (Prometheus config and rules, Alertmanager config and templates), by the same path.
        production = files_under(ROOT / PRODUCTION[target])
        needed = {p for p in production if not p.startswith("tests/")}
        assert files_under(source) == needed, target


def test_the_containers_config_file_flags_name_rendered_files(rendered: Path) -> None:
    merged = {**services(), **{n: {**services()[n], **s} for n, s in services("compose.drill.yaml").items()}}
    env = {"DRILL_PROVISIONING": str(rendered)}
    for name in ("prometheus", "alertmanager"):
        config = next(a.split("=", 1)[1] for a in merged[name]["command"] if a.startswith("--config.file="))
        mounts = bind_mounts(services("compose.drill.yaml")[name], env)
        target = next(t for t in mounts if config.startswith(t + "/"))
        assert (mounts[target] / config[len(target) + 1 :]).is_file(), f"{name}: {config}"


def test_the_default_mount_source_is_where_stack_up_renders() -> None:
    volume = str(services("compose.drill.yaml")["prometheus"]["volumes"][0])
    default = next(
        m.group("default") for m in _VARIABLE.finditer(volume) if m.group("name") == "DRILL_PROVISIONING"
    )
    assert (ROOT / default).resolve() == (ROOT / StackSettings().run_dir / DRILL_DIR).resolve()


def test_drill_prometheus_command_is_production_plus_the_native_drill_flags(tmp_path: Path) -> None:
    production = services()["prometheus"]["command"]
    drill = services("compose.drill.yaml")["prometheus"]["command"]
    assert drill[: len(production)] == production, "compose.drill.yaml repeats compose.yaml's command first"
    extra = dict(interpolate(a, {}).split("=", 1) for a in drill[len(production) :])
    assert extra == prometheus_drill_flags(60), "defaults are the default factor's values"
    variables = {m.group("name") for a in drill for m in _VARIABLE.finditer(a)}
    assert variables == set(drill_flag_variables(60))
    # ... and the native drill stack starts Prometheus with the same values.
    settings = StackSettings(run_dir=tmp_path, drill=True)
    prom = next(c for c in build_components(settings, render_all(settings, {})) if c.name == "prometheus")
    native = dict(a.split("=", 1) for a in prom.argv if a.split("=", 1)[0] in extra)
    assert native == extra


def test_the_drill_render_compresses_what_the_production_files_say(rendered: Path) -> None:
    prom = yaml.safe_load((rendered / "prometheus" / "prometheus.yml").read_text())
    assert prom["global"]["scrape_interval"] == "1s"
    assert (
        prom["rule_files"]
        == yaml.safe_load((ROOT / "provisioning/prometheus/prometheus.yml").read_text())["rule_files"]
    )


def test_compose_drill_mode_runs_the_native_drill_load() -> None:
    drill = services("compose.drill.yaml")
    assert drill["loadgen"]["environment"] == DRILL_ENV["loadgen"]
    for backend in ("backend-1", "backend-2"):
        assert drill[backend]["environment"] == DRILL_ENV[backend], backend
        # No cgroup quota: the backend would read it before the setting.
        assert drill[backend]["cpus"] == 0, backend
