"""The Prometheus, Alertmanager and blackbox exporter binaries the native stack and the rule
tests run: where they are, which version they are, and whether that is the version compose.yaml
runs.

``scripts/fetch-tools.sh`` unpacks the releases pinned in ``scripts/tools.lock`` into
``.tools/bin``; that directory is searched before ``PATH``, so an older system package (Debian
bookworm ships Prometheus 2.42) is never taken by accident, and :func:`version_problems` names
any binary whose major.minor differs from the pin.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = [
    "FETCH_HINT",
    "LOCK_FILE",
    "TOOLS_BIN",
    "Pin",
    "binary_version",
    "pins",
    "search_path",
    "version_problems",
    "which",
]

REPO_ROOT = Path(__file__).resolve().parents[1]
TOOLS_BIN = REPO_ROOT / ".tools" / "bin"
LOCK_FILE = REPO_ROOT / "scripts" / "tools.lock"
FETCH_HINT = "install them with ./scripts/fetch-tools.sh (or `make bootstrap`)"

# Which Debian package of the lock file each command comes from.
PACKAGE_OF = {
    "prometheus": "prometheus",
    "promtool": "promtool",
    "prometheus-alertmanager": "prometheus-alertmanager",
    "amtool": "prometheus-alertmanager",
    "prometheus-blackbox-exporter": "prometheus-blackbox-exporter",
}
_VERSION = re.compile(r"\bversion\s+v?(\d+\.\d+\.\d+)")


@dataclass(frozen=True)
class Pin:
    """One line of ``scripts/tools.lock``: the upstream release wanted, from which suites."""

    package: str
    version: str
    suites: tuple[str, ...]

    @property
    def minor(self) -> str:
        """``3.5`` of ``3.5.3``: the part compose and native must share."""
        return minor_of(self.version)


def minor_of(version: str) -> str:
    return ".".join(version.split(".")[:2])


def pins(lock_file: Path = LOCK_FILE) -> dict[str, Pin]:
    """The lock file by package name. A malformed line is an error naming file and line."""
    result: dict[str, Pin] = {}
    for number, line in enumerate(lock_file.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) < 3 or not re.fullmatch(r"\d+\.\d+\.\d+", fields[1]):
            raise ValueError(f"{lock_file}:{number}: expected `package x.y.z suite...`, got {line!r}")
        result[fields[0]] = Pin(fields[0], fields[1], tuple(fields[2:]))
    return result


def search_path() -> str:
    """``PATH`` with the fetched tools first."""
    return os.pathsep.join([str(TOOLS_BIN), os.environ.get("PATH", os.defpath)])


def which(command: str) -> str | None:
    """Absolute path of ``command``, from ``.tools/bin`` first, then ``PATH``."""
    if os.sep in command:
        return command if os.access(command, os.X_OK) else None
    return shutil.which(command, path=search_path())


@cache
def binary_version(path: str) -> str | None:
    """``x.y.z`` as ``path --version`` prints it, or None when it prints no version."""
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION.search(done.stdout + done.stderr)
    return match.group(1) if match else None


def version_problems(commands: list[str], lock: dict[str, Pin] | None = None) -> list[str]:
    """One sentence per command that is missing or whose major.minor is not the pinned one."""
    lock = lock if lock is not None else pins()
    problems = []
    for command in commands:
        path = which(command)
        if path is None:
            problems.append(f"{command} not found")
            continue
        pin = lock.get(PACKAGE_OF.get(Path(command).name, ""))
        if pin is None:
            continue
        found = binary_version(path)
        if found is None or minor_of(found) != pin.minor:
            problems.append(f"{path} is version {found or 'unknown'}, the bundle runs {pin.minor}.x")
    return problems
