"""One set of versions: the Prometheus, Alertmanager and blackbox exporter that compose.yaml
runs are the releases scripts/tools.lock fetches for the native stack and the rule tests, and
the binaries found are those releases."""

from __future__ import annotations

from pathlib import Path

import pytest

from stack.tools import PACKAGE_OF, Pin, pins, version_problems
from tests.compose._bundle import services

# compose service -> the lock file's package of the same program.
SERVICE_PACKAGE = {
    "prometheus": "prometheus",
    "alertmanager": "prometheus-alertmanager",
    "blackbox": "prometheus-blackbox-exporter",
}


def _image_version(service: str, compose_file: str = "compose.yaml") -> str:
    image = services(compose_file)[service]["image"]
    return image.rsplit(":", 1)[1].removeprefix("v")


@pytest.mark.parametrize("service", sorted(SERVICE_PACKAGE))
def test_compose_runs_the_release_the_native_stack_runs(service: str) -> None:
    pin = pins()[SERVICE_PACKAGE[service]]
    assert _image_version(service) == pin.version, (
        f"compose.yaml runs {service} {_image_version(service)}, scripts/tools.lock pins {pin.version}: "
        "move both together"
    )


@pytest.mark.parametrize("service", sorted(SERVICE_PACKAGE))
def test_the_stand_in_images_are_tagged_with_the_pinned_release(service: str) -> None:
    image = services("compose.standin.yaml")[service]["image"]
    assert not image.startswith("prom/"), f"a stand-in must not carry the upstream name: {image}"
    assert _image_version(service, "compose.standin.yaml") == pins()[SERVICE_PACKAGE[service]].version, image


def test_promtool_is_the_release_of_prometheus() -> None:
    lock = pins()
    assert lock["promtool"].version == lock["prometheus"].version


def test_every_binary_has_a_pin() -> None:
    assert set(PACKAGE_OF.values()) <= set(pins())


def test_a_lock_line_without_a_suite_is_refused_by_line(tmp_path: Path) -> None:
    lock = tmp_path / "tools.lock"
    lock.write_text("# comment\nprometheus 3.5.3 sid\npromtool 3.5.3\n")
    with pytest.raises(ValueError, match=r"tools.lock:3: expected `package x.y.z suite...`"):
        pins(lock)


def test_a_binary_of_another_minor_is_a_problem(tmp_path: Path) -> None:
    fake = tmp_path / "prometheus"
    fake.write_text("#!/bin/sh\necho 'prometheus, version 3.6.0 (branch: HEAD)'\n")
    fake.chmod(0o755)
    lock = {"prometheus": Pin("prometheus", "3.5.3", ("sid",))}
    assert version_problems([str(fake)], lock) == [f"{fake} is version 3.6.0, the bundle runs 3.5.x"]


def test_another_patch_release_of_the_same_minor_is_accepted(tmp_path: Path) -> None:
    fake = tmp_path / "prometheus"
    fake.write_text("#!/bin/sh\necho 'prometheus, version 3.5.1+ds1 (branch: debian/sid)'\n")
    fake.chmod(0o755)
    lock = {"prometheus": Pin("prometheus", "3.5.3", ("sid",))}
    assert version_problems([str(fake)], lock) == []


@pytest.mark.rules
def test_the_binaries_found_are_the_pinned_releases() -> None:
    assert version_problems(sorted(PACKAGE_OF)) == []
