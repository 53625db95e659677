"""The bundle's stack tooling: the native runner (:mod:`stack.native`), the notification
receiver (:mod:`stack.receiver`), API clients (:mod:`stack.clients`), time compression of
rule files (:mod:`stack.timecompress`) and the ``python -m stack`` command line.

Kept free of imports so that ``python -m stack.receiver`` loads only what it needs.
"""

from __future__ import annotations

__all__: list[str] = []
