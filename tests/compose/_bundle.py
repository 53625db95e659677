"""Read the compose files and the provisioning tree the way Docker Compose would see them.

Helpers shared by the static checks: the merged service definitions, the ports each
service listens on inside the compose network, and every ``host:port`` address the
provisioning files point at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILES = ("compose.yaml", "compose.drill.yaml", "compose.ci.yaml", "compose.standin.yaml")
SCHEMA = ROOT.parent / "shared" / "schemas" / "compose-spec.json"
# Addresses that mean "this container" or "every interface", not another service.
LOCAL_HOSTS = {"127.0.0.1", "localhost", "0.0.0.0"}

# host:port with an optional scheme, e.g. `http://receiver:8300/slack/alerts`, `tempo:4317`.
_ADDRESS = re.compile(r"^(?:(?P<scheme>[a-z][a-z0-9+]*)://)?(?P<host>[A-Za-z0-9._-]+):(?P<port>\d+)(?:/|$)")
_BARE_URL = re.compile(r"^https?://(?P<host>[A-Za-z0-9_-]+)(?:/|$)")


def load(name: str = "compose.yaml") -> dict[str, Any]:
    data = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{name} is not a mapping"
    return data


def services(name: str = "compose.yaml") -> dict[str, dict[str, Any]]:
    svc = load(name)["services"]
    assert isinstance(svc, dict)
    return svc


def container_ports(svc: dict[str, Any]) -> set[int]:
    """Ports a service listens on inside the network: its published and exposed ports."""
    ports: set[int] = set()
    for entry in svc.get("ports", []):
        ports.add(int(str(entry).rsplit(":", 1)[-1].split("/")[0]))
    for entry in svc.get("expose", []):
        ports.add(int(str(entry).split("/")[0]))
    return ports


def listening() -> dict[str, set[int]]:
    """Service name -> the ports it listens on, from compose.yaml."""
    return {name: container_ports(svc) for name, svc in services().items()}


def strings(node: object) -> Iterator[str]:
    """Every string value (not key) in a parsed YAML/JSON document."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def addresses(values: Iterator[str] | list[str]) -> list[tuple[str, str, int | None]]:
    """(original text, host, port) for each value that is an address of another host.

    A URL to a bare host name (no dot) without a port is returned with port None: inside
    compose every service address needs its port.
    """
    found: list[tuple[str, str, int | None]] = []
    for value in values:
        text = value.strip()
        m = _ADDRESS.match(text)
        if m and m.group("host") not in LOCAL_HOSTS and "." not in m.group("host"):
            found.append((text, m.group("host"), int(m.group("port"))))
            continue
        bare = _BARE_URL.match(text)
        if bare and bare.group("host") not in LOCAL_HOSTS:
            found.append((text, bare.group("host"), None))
    return found


def quoted_strings(text: str) -> list[str]:
    """The double-quoted string literals of a River/Alloy or similar config file."""
    return re.findall(r'"((?:[^"\\]|\\.)*)"', text)
