"""The scenario loader: the shipped catalog loads, and a bad file fails naming the file and
the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from stack.drills import CatalogError, load_catalog, load_scenario
from stack.drills.model import Scenario

GOOD = """
description: A fault.
resources: [backend-1/http]
inject:
  - fault: http_5xx
    instance: backend-1
    params: {rate: 0.5}
expect:
  - alert: BackendHighErrorRate
    severity: critical
    labels: {instance: "backend-1:8000"}
    receivers: [pagerduty]
"""


def write(tmp_path: Path, text: str, name: str = "drill.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_shipped_catalog_loads_with_names_from_the_file_names() -> None:
    catalog = load_catalog()
    assert "http-5xx" in catalog.scenarios
    assert all(name == s.name for name, s in catalog.scenarios.items())
    assert catalog.not_drillable, "not-drillable.yaml lists the alerts no drill can prove"


def test_a_good_file_loads(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, GOOD))
    assert scenario.name == "drill"
    assert scenario.inject[0].instances == ("backend-1",)
    assert scenario.expect[0].receivers == ["pagerduty"]


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (("receivers: [pagerduty]", "receivers: [pager]"), "expect.0.receivers"),
        (("severity: critical", "severity: urgent"), "expect.0.severity"),
        (("instance: backend-1\n", "instance: backend-3\n"), "inject.0.instance"),
        (("resources: [backend-1/http]", "resources: []"), "resources"),
        (("description: A fault.", "description: A fault.\nbogus: 1"), "bogus"),
        (("fault: http_5xx", "fault: http_6xx"), "inject.0.fault"),
        (("{rate: 0.5}", "{rate: 2}"), "inject.0.params"),
        (("{rate: 0.5}", "{speed: 1}"), "inject.0.params"),
        (("alert: BackendHighErrorRate", "alert: backend_high"), "expect.0.alert"),
    ],
)
def test_a_bad_file_fails_naming_the_file_and_the_key(
    tmp_path: Path, change: tuple[str, str], where: str
) -> None:
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(CatalogError) as err:
        load_scenario(path)
    assert str(path) in str(err.value)
    assert where in str(err.value)


def test_not_yaml_and_not_a_mapping_are_named(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_scenario(write(tmp_path, "a: [b"))
    with pytest.raises(CatalogError, match="mapping at the top level"):
        load_scenario(write(tmp_path, "- a\n- b\n"))


def test_the_name_is_the_file_name(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="name: the name is the file name"):
        load_scenario(write(tmp_path, "name: other\n" + GOOD))


def test_stack_steps_are_checked(tmp_path: Path) -> None:
    bad = GOOD + "stack:\n  - action: kill\n    component: grafana\n"
    with pytest.raises(CatalogError, match=r"stack\.0"):
        load_scenario(write(tmp_path, bad))
    restart = GOOD + "stack:\n  - action: restart\n    component: prometheus\n"
    with pytest.raises(CatalogError, match="undo: never"):
        load_scenario(write(tmp_path, restart))


def test_a_drill_must_do_something(tmp_path: Path) -> None:
    nothing = GOOD.split("inject:")[0] + GOOD.split("params: {rate: 0.5}\n")[1]
    with pytest.raises(CatalogError, match="inject or stack"):
        load_scenario(write(tmp_path, nothing))


def test_a_bad_not_drillable_list_is_named(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    write(tmp_path, "not_drillable:\n  - alert: X\n    reason: short\n", "not-drillable.yaml")
    with pytest.raises(CatalogError, match=r"not-drillable\.yaml: not_drillable\.0\.reason"):
        load_catalog(tmp_path)


def test_unknown_scenario_names_are_refused_with_the_known_ones() -> None:
    catalog = load_catalog()
    with pytest.raises(CatalogError, match=r"unknown scenario 'nope'; known: .*http-5xx"):
        catalog.select(["nope"])


def scenario(resources: list[str], exclusive: bool = False) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "x",
            "description": "d",
            "resources": resources,
            "exclusive": exclusive,
            "inject": [{"fault": "http_5xx"}],
            "expect": [{"alert": "A", "severity": "warning", "receivers": ["slack/alerts"]}],
        }
    )


@pytest.mark.parametrize(
    ("a", "b", "conflict"),
    [
        (["backend-1/http"], ["backend-1/llm"], False),
        (["backend-1/http"], ["backend-1/http"], True),
        (["backend-1"], ["backend-1/http"], True),
        (["backend-1/db"], ["backend-1/db-pool"], False),
        (["backend-1/http", "slo/latency"], ["backend-2/http", "slo/latency"], True),
        # "~" only relies on a resource: many may, never beside one that disturbs it.
        (["~throughput"], ["~throughput"], False),
        (["throughput"], ["~throughput"], True),
    ],
)
def test_resources_overlap_by_path_prefix(a: list[str], b: list[str], conflict: bool) -> None:
    assert scenario(a).conflicts_with(scenario(b)) is conflict
    assert scenario(b).conflicts_with(scenario(a)) is conflict


def test_an_exclusive_drill_conflicts_with_everything() -> None:
    assert scenario(["receiver"], exclusive=True).conflicts_with(scenario(["backend-1/http"]))
