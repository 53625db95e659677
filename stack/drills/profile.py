"""The load a drill-mode stack needs, as environment for the load generator.

At the default 6 runs/s over a closed loop of 8 runs in flight, two things break drills at a
compressed scale: a 5m window compressed to 5 s often holds no call of a given tool or peer
agent (0.36-0.6 calls/s per instance), so per-tool and per-agent ratios lose their value and
restart their `for`; and a latency fault of a few seconds fills the 8 slots, throttling the
whole bundle's traffic into bursts. Twice the rate and room for every slow run in flight fix
both, for about a third of a core on this machine.

The native runner passes its own environment to the processes it starts, so setting these
before starting a drill-mode stack is enough (``python -m stack drill`` does so when it starts
the stack itself).
"""

from __future__ import annotations

import os

__all__ = ["DRILL_LOAD_ENV", "DRILL_SUITE_FACTOR", "apply_drill_load"]

DRILL_LOAD_ENV = {
    # Steady runs/s over both instances: at least 0.7 calls/s of each tool and peer per instance.
    "LOADGEN_RATE": "12",
    # 12 runs/s x 6 s of the slowest latency drill = 72 in flight; 96 leaves headroom.
    "LOADGEN_CONCURRENCY": "96",
    # The backends' CPU limit when no cgroup quota sets one (the native case). A process of a
    # two-core machine shared with the whole stack is not reliably given 90 % of one core, so
    # the CPU drill could not saturate a one-core limit; healthy load stays well under 80 % of
    # 0.7 cores.
    "BACKEND_CPU_LIMIT_CORES": "0.7",
}


# The compression factor the e2e tier runs the whole catalog at: a 15m `for` becomes 9 s and
# Alertmanager's 5m group interval 3 s, while every range keeps its floor of four scrapes. The
# suite is ~40 % shorter than at 60. Not 120: there DatabaseDown's 1m `for` and
# BackendProbesFailingOnMultipleInstances' 2m both round to one evaluation, the probe alert
# (one scrape ahead of the database gauge) fires first and its page escapes the inhibition.
DRILL_SUITE_FACTOR = 100.0


def apply_drill_load() -> dict[str, str]:
    """Set the drill load in this process's environment, keeping values already set."""
    for key, value in DRILL_LOAD_ENV.items():
        os.environ.setdefault(key, value)
    return {key: os.environ[key] for key in DRILL_LOAD_ENV}
