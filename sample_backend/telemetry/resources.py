"""The CPU and memory the process may use: the cgroup's limits when there are any.

cgroup v2 publishes ``memory.max`` and ``cpu.max`` (``"max"`` meaning unlimited);
cgroup v1 ``memory/memory.limit_in_bytes`` (a huge number meaning unlimited) and
``cpu/cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (quota -1 meaning unlimited). Without
a limit the configured fallback is used, so utilisation ratios always have a
denominator.

Usage::

    memory_limit_bytes(fallback=512 * 1024**2)
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["cpu_limit_cores", "memory_limit_bytes"]

CGROUP_ROOT = Path("/sys/fs/cgroup")
# cgroup v1 reports "no limit" as the largest page-aligned signed 64-bit value; anything
# above a petabyte is that sentinel rather than a real limit.
_V1_UNLIMITED = 2**50


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def memory_limit_bytes(fallback: int, root: Path = CGROUP_ROOT) -> int:
    """The cgroup memory limit in bytes, else ``fallback``."""
    v2 = _read(root / "memory.max")
    if v2 is not None:
        return fallback if v2 == "max" or not v2.isdigit() else int(v2)
    v1 = _read(root / "memory" / "memory.limit_in_bytes")
    if v1 is not None and v1.isdigit() and int(v1) < _V1_UNLIMITED:
        return int(v1)
    return fallback


def cpu_limit_cores(fallback: float, root: Path = CGROUP_ROOT) -> float:
    """The cgroup CPU quota in cores, else ``fallback``."""
    v2 = _read(root / "cpu.max")
    if v2 is not None:
        quota, _, period = v2.partition(" ")
        if quota != "max" and quota.isdigit() and period.isdigit() and int(period) > 0:
            return int(quota) / int(period)
        return fallback
    quota_v1 = _read(root / "cpu" / "cpu.cfs_quota_us")
    period_v1 = _read(root / "cpu" / "cpu.cfs_period_us")
    if quota_v1 and period_v1 and quota_v1.isdigit() and period_v1.isdigit() and int(period_v1) > 0:
        return int(quota_v1) / int(period_v1)
    return fallback
