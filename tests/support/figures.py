"""Figures the e2e tier measures (stack start-up, drill suites), printed in the pytest summary by
``tests/conftest.py``; under pytest-xdist each worker hands its figures to the controller.

Usage::

    record_figure("busy drill suite wall time, s", 131.2)
"""

from __future__ import annotations

__all__ = ["FIGURES", "record_figure"]

# Name -> value, in the order recorded.
FIGURES: dict[str, float] = {}


def record_figure(name: str, value: float) -> None:
    """Report a measured figure in the pytest summary."""
    FIGURES[name] = value
