"""Paths and small functions shared by the rule and configuration tests."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import yaml

from stack.alerting import PROVISIONING_DIR, RULES_DIR

REPO_ROOT = PROVISIONING_DIR.parent
PROMETHEUS_YML = PROVISIONING_DIR / "prometheus" / "prometheus.yml"
RULE_TESTS_DIR = PROVISIONING_DIR / "prometheus" / "tests"
ALERTMANAGER_YML = PROVISIONING_DIR / "alertmanager" / "alertmanager.yml"
TEMPLATES_DIR = PROVISIONING_DIR / "alertmanager" / "templates"
BLACKBOX_YML = PROVISIONING_DIR / "blackbox" / "blackbox.yml"
RUNBOOKS_MD = REPO_ROOT / "docs" / "runbooks.md"
LOKI_RULES_DIR = PROVISIONING_DIR / "loki" / "rules"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def rule_files() -> list[Path]:
    return sorted(RULES_DIR.glob("*.yml"))


def all_rules() -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every rule (recording and alerting) with the file it is in."""
    for path in rule_files():
        for group in load_yaml(path)["groups"]:
            for rule in group["rules"]:
                yield path, rule


def run_tool(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run promtool / amtool; the result carries stdout and stderr for assertion messages."""
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, check=False
    )


def walk(expr: str) -> Iterator[Any]:
    """Every node of a PromQL expression's syntax tree."""
    stack: list[Any] = [promql_parser.parse(expr)]
    while stack:
        node = stack.pop()
        yield node
        for attr in ("lhs", "rhs", "expr", "param", "vector_selector"):
            child = getattr(node, attr, None)
            if child is not None and not isinstance(child, str | int | float):
                stack.append(child)
        stack.extend(getattr(node, "args", None) or [])
