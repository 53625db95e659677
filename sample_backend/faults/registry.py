"""Which faults and traffic modes are switched on, with what parameters.

The admin API writes here (:meth:`FaultRegistry.set` / :meth:`~FaultRegistry.clear`);
the backend's request path reads here (:meth:`FaultRegistry.roll`) at the point where
each fault would really happen. Every change is validated against the catalog,
written as a ``FAULT_CHANGED`` audit record and mirrored in ``agent_fault_active``.

Usage::

    faults = FaultRegistry(metrics)
    faults.set("tool_errors", {"tool": "weather", "rate": 0.5})
    if faults.roll("tool_errors", tool="weather"):
        ...  # fail this call
    faults.clear_all()
"""

from __future__ import annotations

import math
import random
import threading
from typing import Any

from sample_backend.faults.catalog import FAULTS, FaultSpec, ParamSpec
from sample_backend.faults.effects import CpuBurn, MemoryHog
from sample_backend.telemetry.logs import audit_logger
from sample_backend.telemetry.metrics import BackendMetrics

__all__ = ["FaultError", "FaultRegistry", "catalog", "validate"]

AUDIT_EVENT = "FAULT_CHANGED"
# How long switching memory_pressure on waits for the memory to be resident, so the caller
# starts its clock on the effect; a fill slower than this goes on in the background, and a
# client with a 5 s timeout still gets its answer.
MEMORY_FILL_WAIT_SECONDS = 3.0


def catalog() -> list[dict[str, Any]]:
    """Every fault and traffic mode with its parameters (the list a 400 answer carries)."""
    return [spec.describe() for spec in FAULTS.values()]


class FaultError(ValueError):
    """An unknown fault or bad parameters; the message says what was wrong.

    ``catalog`` lists the valid faults and their parameters, for the 400 answer.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.catalog = catalog()


def _spec(name: str) -> FaultSpec:
    spec = FAULTS.get(name)
    if spec is None:
        raise FaultError(f"unknown fault {name!r}; valid faults: {', '.join(FAULTS)}")
    return spec


def _check_param(fault: str, key: str, p: ParamSpec, value: Any) -> Any:
    """The validated value (ints widened to float for numbers), or FaultError."""
    where = f"{fault}.{key}"
    if p.type == "string":
        if not isinstance(value, str):
            raise FaultError(f"{where} must be a string, got {type(value).__name__}")
        if p.choices is not None and value not in p.choices:
            raise FaultError(f"{where} must be one of {', '.join(p.choices)}; got {value!r}")
        return value
    # bool is an int subclass in Python but never a sensible number here.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultError(f"{where} must be a {p.type}, got {type(value).__name__}")
    if p.type == "integer" and not isinstance(value, int):
        raise FaultError(f"{where} must be an integer, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise FaultError(f"{where} must be finite, got {value!r}")
    too_low = p.minimum is not None and (value < p.minimum or (p.exclusive_minimum and value == p.minimum))
    too_high = p.maximum is not None and value > p.maximum
    if too_low or too_high:
        raise FaultError(f"{where} must be in {_range_text(p)}; got {value!r}")
    return value if p.type == "integer" else float(value)


def _range_text(p: ParamSpec) -> str:
    def fmt(x: float) -> str:
        # Byte counts read better as integers than in %g's exponent form.
        return str(int(x)) if p.type == "integer" else f"{x:g}"

    low = "-inf" if p.minimum is None else fmt(p.minimum)
    high = "inf" if p.maximum is None else fmt(p.maximum)
    return f"{'(' if p.exclusive_minimum else '['}{low}, {high}]"


def validate(name: str, params: Any) -> dict[str, Any]:
    """Full parameters for ``name``: ``params`` checked and defaults filled in."""
    spec = _spec(name)
    if not isinstance(params, dict):
        raise FaultError(f"parameters for {name} must be a JSON object, got {type(params).__name__}")
    unknown = sorted(set(params) - set(spec.parameters))
    if unknown:
        valid = ", ".join(spec.parameters) or "none"
        raise FaultError(f"unknown parameter(s) for {name}: {', '.join(unknown)}; valid: {valid}")
    return {
        key: _check_param(name, key, p, params[key]) if key in params else p.default
        for key, p in spec.parameters.items()
    }


class FaultRegistry:
    """The switched-on faults of one backend process. Thread-safe; ``roll`` is lock-free."""

    def __init__(self, metrics: BackendMetrics | None = None) -> None:
        self._metrics = metrics
        self._lock = threading.Lock()
        # Replaced, never mutated in place, so readers need no lock.
        self._active: dict[str, dict[str, Any]] = {}
        self._cpu: CpuBurn | None = None
        self._memory: MemoryHog | None = None
        self._random = random.Random()
        if metrics is not None:
            # Every series exists from the start, so "== 1" and absent() rules both work.
            for name in FAULTS:
                metrics.fault_active.labels(fault=name).set(0)

    # --- hot path ----------------------------------------------------------------------

    def active(self, name: str) -> bool:
        return name in self._active

    def params(self, name: str) -> dict[str, Any] | None:
        p = self._active.get(name)
        return dict(p) if p is not None else None

    def roll(self, name: str, **match: str) -> dict[str, Any] | None:
        """Params when the fault is active, its params match ``match`` (e.g. tool="weather";
        a fault param that is absent or "*" matches anything) and a random draw falls under
        its ``rate`` (1.0 when it has none); else None. Called per request: kept cheap."""
        p = self._active.get(name)
        if p is None:
            return None
        for key, want in match.items():
            have = p.get(key, "*")
            if have != "*" and have != want:
                return None
        # A traffic mode's rate is requests per second, not a probability.
        rate = p.get("rate", 1.0) if FAULTS[name].kind == "fault" else 1.0
        if rate < 1.0 and self._random.random() >= rate:
            return None
        return dict(p)

    # --- changes -------------------------------------------------------------------------

    def set(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        """Validate, switch on (or re-parameterise) ``name``; returns the full parameters.

        For memory_pressure, returns once the memory is resident (at most
        :data:`MEMORY_FILL_WAIT_SECONDS`); the fill itself holds no lock, so other faults
        change meanwhile."""
        full = validate(name, params)
        with self._lock:
            self._apply_effect(name, full)
            filling = self._memory if name == "memory_pressure" else None
            active = dict(self._active)
            active[name] = full
            self._active = active
            self._record(name, True, full)
        if filling is not None:
            filling.wait(MEMORY_FILL_WAIT_SECONDS)
        return dict(full)

    def clear(self, name: str) -> None:
        """Switch ``name`` off; a fault that is already off is left as is (no audit record)."""
        _spec(name)
        with self._lock:
            self._clear_locked(name)

    def clear_all(self) -> None:
        with self._lock:
            for name in list(self._active):
                self._clear_locked(name)

    def close(self) -> None:
        """Stop every process effect (for shutdown); faults stay recorded as they were."""
        with self._lock:
            self._stop_cpu()
            self._free_memory()

    def snapshot(self) -> list[dict[str, Any]]:
        """The ``faults`` list of ``GET /admin/faults``: catalog entries with their state."""
        active = self._active
        out = []
        for name, spec in FAULTS.items():
            entry = spec.describe()
            entry["active"] = name in active
            entry["params"] = dict(active.get(name, {}))
            out.append(entry)
        return out

    # --- internals -----------------------------------------------------------------------

    def _clear_locked(self, name: str) -> None:
        if name not in self._active:
            return
        if name == "cpu_burn":
            self._stop_cpu()
        elif name == "memory_pressure":
            self._free_memory()
        active = dict(self._active)
        del active[name]
        self._active = active
        self._record(name, False, {})

    def _apply_effect(self, name: str, params: dict[str, Any]) -> None:
        # Re-setting an active effect replaces it, so the new parameters hold exactly.
        if name == "cpu_burn":
            self._stop_cpu()
            self._cpu = CpuBurn(float(params["cores"]))
        elif name == "memory_pressure":
            self._free_memory()
            self._memory = MemoryHog(int(params["bytes"]))

    def _stop_cpu(self) -> None:
        if self._cpu is not None:
            self._cpu.stop()
            self._cpu = None

    def _free_memory(self) -> None:
        if self._memory is not None:
            self._memory.release()
            self._memory = None

    def _record(self, name: str, active: bool, params: dict[str, Any]) -> None:
        audit_logger().info(
            f"fault {name} {'activated' if active else 'cleared'}",
            extra={"event": AUDIT_EVENT, "fault": name, "active": active, "params": params},
        )
        if self._metrics is not None:
            self._metrics.fault_active.labels(fault=name).set(1 if active else 0)
            self._metrics.audit_events.labels(event=AUDIT_EVENT).inc()
