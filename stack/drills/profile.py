"""The compression factor drills run at unless told otherwise.

The drill load itself (a denser load generator, the backends' CPU limit) belongs to drill mode:
the native runner gives it to the processes it starts (``stack.native.settings.DRILL_ENV``), so
``python -m stack up --drill``, ``python -m stack drill`` and the e2e tier all drill under the
same load.
"""

from __future__ import annotations

__all__ = ["DRILL_SUITE_FACTOR"]

# The factor the whole catalog runs at (``python -m stack drill`` when it starts its own stack,
# the e2e tier, the benchmark): a 15m `for` becomes 9 s and Alertmanager's 5m group interval 3 s,
# while every range keeps its floor of four scrapes. The suite is ~40 % shorter than at 60. Not
# 120: there DatabaseDown's 1m `for` and BackendProbesFailingOnMultipleInstances' 2m both round to
# one evaluation, the probe alert (one scrape ahead of the database gauge) fires first and its page
# escapes the inhibition.
DRILL_SUITE_FACTOR = 100.0
