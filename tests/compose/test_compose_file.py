"""Static checks of compose.yaml and its overrides: schema, images, healthchecks, ports,
volumes, memory limits and start order - everything that needs no Docker engine."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest

from tests.compose._bundle import COMPOSE_FILES, ROOT, SCHEMA, load, services

# Services whose state must survive `docker compose restart` and where it lives.
STATEFUL = {
    "prometheus": "/prometheus",
    "alertmanager": "/alertmanager",
    "loki": "/loki",
    "tempo": "/var/tempo",
    "grafana": "/var/lib/grafana",
}
_MEMORY = re.compile(r"^(\d+)([mg])$")


def _mib(limit: str) -> int:
    m = _MEMORY.match(limit)
    assert m, f"memory limit {limit!r} is not <n>m or <n>g"
    return int(m.group(1)) * (1024 if m.group(2) == "g" else 1)


def _target(volume: str) -> str:
    """The container path of a short-syntax volume (`source:target[:mode]`)."""
    parts = volume.rsplit(":", 2)
    return parts[-2] if parts[-1] in {"ro", "rw"} else parts[-1]


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_compose_file_validates_against_the_compose_specification(name: str) -> None:
    if not SCHEMA.is_file():
        print(f"compose-spec schema not found at {SCHEMA}")
        pytest.skip(f"compose-spec schema not found at {SCHEMA} (shared/ is not beside the clone)")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(load(name))]
    assert errors == []


def test_every_service_has_a_healthcheck() -> None:
    missing = [n for n, s in services().items() if not s.get("healthcheck", {}).get("test")]
    assert missing == []


def test_every_image_is_pinned_to_a_version() -> None:
    for name, svc in services().items():
        image = svc.get("image")
        if image is None:
            assert "build" in svc, f"{name} has neither image nor build"
            continue
        assert ":" in image.rsplit("/", 1)[-1], f"{name}: image {image} has no tag"
        tag = image.rsplit(":", 1)[1]
        assert tag != "latest" and re.search(r"\d", tag), f"{name}: image {image} is not pinned to a version"


def test_the_dockerfile_base_image_is_pinned() -> None:
    dockerfile = (ROOT / "sample_backend" / "Dockerfile").read_text()
    # A base named by a build argument (compose.standin.yaml replaces it) is its default.
    args = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", dockerfile, re.M))
    froms = [
        re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), f)
        for f in re.findall(r"^FROM\s+(\S+)", dockerfile, re.M)
    ]
    assert froms and all(re.search(r":\d+\.\d+\.\d+-slim", f) for f in froms), froms


def test_every_published_port_is_bound_to_localhost() -> None:
    for name, svc in services().items():
        for entry in svc.get("ports", []):
            assert str(entry).startswith("127.0.0.1:"), f"{name} publishes {entry} on every interface"


def test_published_ports_follow_the_contract() -> None:
    expected = {
        "backend-1": "127.0.0.1:8001:8000",
        "backend-2": "127.0.0.1:8002:8000",
        "upstreams": "127.0.0.1:8100:8100",
        "loadgen": "127.0.0.1:8200:8200",
        "receiver": "127.0.0.1:8300:8300",
        "prometheus": "127.0.0.1:9090:9090",
        "alertmanager": "127.0.0.1:9093:9093",
        "blackbox": "127.0.0.1:9115:9115",
        "grafana": "127.0.0.1:3000:3000",
        "loki": "127.0.0.1:3100:3100",
        "tempo": "127.0.0.1:3200:3200",
    }
    svc = services()
    for name, port in expected.items():
        assert port in [str(p) for p in svc[name].get("ports", [])], f"{name} does not publish {port}"


def test_every_bind_mounted_path_exists() -> None:
    for name, svc in services().items():
        for volume in svc.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts {source}, which does not exist"


def test_provisioning_is_mounted_read_only() -> None:
    for name, svc in services().items():
        for volume in svc.get("volumes", []):
            if str(volume).startswith("./provisioning/"):
                assert str(volume).endswith(":ro"), f"{name} mounts {volume} writable"


def test_state_lives_in_named_volumes() -> None:
    top = load()["volumes"]
    svc = services()
    for name, path in STATEFUL.items():
        mounts = [str(v).split(":") for v in svc[name].get("volumes", [])]
        named = [m[0] for m in mounts if len(m) >= 2 and m[1] == path and not m[0].startswith(("./", "/"))]
        assert named, f"{name} keeps {path} outside a named volume"
        assert named[0] in top, f"{name} uses undeclared volume {named[0]}"


def test_every_service_has_a_memory_limit_and_the_documented_total_is_right() -> None:
    svc = services()
    limits = {n: _mib(str(s.get("mem_limit", ""))) for n, s in svc.items()}
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    documented = re.search(r"Total: (\d+) MiB", text)
    assert documented, "compose.yaml does not document the memory total"
    assert int(documented.group(1)) == sum(limits.values())
    for name, mib in limits.items():
        assert re.search(rf"\b{re.escape(name)} {mib}\b", text), f"the header does not list {name} {mib}"


def test_backends_have_a_cpu_quota_for_the_utilisation_alerts() -> None:
    svc = services()
    assert [float(svc[n].get("cpus", 0)) for n in ("backend-1", "backend-2")] == [1.0, 1.0]


def test_dependencies_wait_for_health() -> None:
    svc = services()
    for name, s in svc.items():
        for dep, cond in (s.get("depends_on") or {}).items():
            assert dep in svc, f"{name} depends on unknown service {dep}"
            assert cond.get("condition") == "service_healthy", f"{name} -> {dep} does not wait for health"


def test_backends_are_configured_with_compose_addresses() -> None:
    svc = services()
    for name in ("backend-1", "backend-2"):
        env = svc[name]["environment"]
        assert env["BACKEND_INSTANCE_NAME"] == name
        assert env["BACKEND_HOST"] == "0.0.0.0"
        assert env["BACKEND_LLM_BASE_URL"] == "http://upstreams:8100/v1"
        assert env["BACKEND_TOOLS_BASE_URL"] == "http://upstreams:8100/tools"
        agents = json.loads(env["BACKEND_A2A_AGENTS"])
        assert set(agents) == {"research-agent", "billing-agent"}
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"].startswith("http://alloy:")


def test_grafana_admin_password_comes_from_the_environment_and_anonymous_access_is_read_only() -> None:
    env = services()["grafana"]["environment"]
    assert env["GF_SECURITY_ADMIN_PASSWORD"] == "${GRAFANA_ADMIN_PASSWORD:-admin}"
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "true"
    assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"


def test_overrides_only_touch_services_of_the_bundle() -> None:
    base = set(services())
    for name in COMPOSE_FILES[1:]:
        assert set(services(name)) <= base, f"{name} adds services"


def test_drill_override_replaces_the_production_rule_mounts() -> None:
    svc = services("compose.drill.yaml")
    targets = {n: [_target(str(v)) for v in s.get("volumes", [])] for n, s in svc.items()}
    assert "/etc/prometheus" in targets["prometheus"]
    assert "/etc/alertmanager" in targets["alertmanager"]


def test_ci_override_keeps_what_the_drills_need() -> None:
    optional = {n for n, s in services("compose.ci.yaml").items() if s.get("profiles")}
    needed = {
        "prometheus",
        "alertmanager",
        "blackbox",
        "backend-1",
        "backend-2",
        "upstreams",
        "loadgen",
        "receiver",
    }
    assert not optional & needed
    # Nothing the drills need may depend on a service the CI profile switches off.
    for name, svc in services().items():
        if name in needed:
            assert not set(svc.get("depends_on") or {}) & optional, f"{name} depends on {optional}"


def test_the_image_runs_as_a_non_root_user_with_a_python_healthcheck() -> None:
    dockerfile = (ROOT / "sample_backend" / "Dockerfile").read_text(encoding="utf-8")
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert users and users[-1] not in {"root", "0"}
    assert re.search(r"^HEALTHCHECK .*\n?.*CMD \[\"python\"", dockerfile, re.M)
    assert "curl" not in dockerfile


def test_the_build_context_leaves_local_state_out() -> None:
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ignore[ignore.index("*") :][:1] == ["*"], "the context is not an allow-list"
    for needed in ("!pyproject.toml", "!sample_backend", "!stack"):
        assert needed in ignore


def test_compose_names_no_path_outside_the_repository() -> None:
    for name, svc in services().items():
        for volume in svc.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if source.startswith("/"):
                # The one host path: Alloy reads container logs through the Docker API socket.
                assert (name, Path(source)) == ("alloy", Path("/var/run/docker.sock")), volume
