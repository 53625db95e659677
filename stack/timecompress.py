"""Time compression of Prometheus rule files, so drills run the production rules fast.

Every duration that makes an alert wait is divided by one factor: ``for``,
``keep_firing_for``, a group's ``interval``, and inside PromQL the range selectors
(``[5m]``), subquery ranges and resolutions (``[1h:5m]``) and ``offset`` modifiers.
Numbers that are not durations (thresholds such as ``> 0.05``, ``le="2.5"``, ``@``
timestamps) are never touched, and neither is anything inside a string literal: the
PromQL is scanned token by token so ``{path="/a[5m]"}`` stays as written.

Two floors keep the result meaningful: a range selector or subquery range never drops
below ``min_range`` (four scrape intervals, so ``rate()`` always sees enough samples),
and a subquery resolution or group interval never drops below ``min_step`` (one scrape
interval). ``for`` and offsets have no floor. Annotations are left as written, so a
description that says "for 5 minutes" still says so in a compressed drill.

Usage::

    c = Compression(factor=60, min_range_ms=4000)
    c.expr('rate(x{le="2.5"}[5m]) > 0.05')   # 'rate(x{le="2.5"}[5s]) > 0.05'
    compressed = c.rules(yaml.safe_load(open("rules/availability.yml")))
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["Compression", "DurationError", "format_duration", "parse_duration"]

_UNIT_MS = {
    "y": 365 * 86_400_000,
    "w": 7 * 86_400_000,
    "d": 86_400_000,
    "h": 3_600_000,
    "m": 60_000,
    "s": 1_000,
    "ms": 1,
}
# "ms" must be tried before "m" so that "5ms" is not read as "5m" followed by "s".
_PART = re.compile(r"(\d+)(ms|y|w|d|h|m|s)")
_DURATION = re.compile(r"(?:\d+(?:ms|y|w|d|h|m|s))+")
_RANGE = re.compile(r"^(\s*)(" + _DURATION.pattern + r")(\s*)(?::(\s*)(" + _DURATION.pattern + r")?(\s*))?$")
_OFFSET = re.compile(r"(?i:offset)(\s+)(-?)(" + _DURATION.pattern + r")")
_IDENT_CHAR = re.compile(r"[A-Za-z0-9_:]")


class DurationError(ValueError):
    """A string that is not a Prometheus duration."""


def parse_duration(text: str) -> int:
    """Milliseconds in a Prometheus duration: ``"1h30m"`` -> 5400000. Units must
    appear largest first, each at most once, as Prometheus requires."""
    if not _DURATION.fullmatch(text):
        raise DurationError(f"{text!r} is not a Prometheus duration (e.g. 30s, 5m, 1h30m)")
    total, last = 0, None
    for value, unit in _PART.findall(text):
        if last is not None and _UNIT_MS[unit] >= _UNIT_MS[last]:
            raise DurationError(f"{text!r}: units must go from largest to smallest, each once")
        total, last = total + int(value) * _UNIT_MS[unit], unit
    return total


def format_duration(ms: int) -> str:
    """The shortest single-unit spelling Prometheus 2.x reads: 5000 -> ``"5s"``,
    1500 -> ``"1500ms"``, 0 -> ``"0s"``."""
    if ms < 0:
        raise DurationError(f"negative duration {ms} ms")
    if ms == 0:
        return "0s"
    for unit in ("y", "w", "d", "h", "m", "s", "ms"):
        if ms % _UNIT_MS[unit] == 0:
            return f"{ms // _UNIT_MS[unit]}{unit}"
    raise AssertionError("unreachable: every integer is a whole number of ms")


@dataclass(frozen=True)
class Compression:
    """Divide every rule duration by ``factor`` with the floors described above.

    ``factor=1`` changes nothing (apart from raising ranges shorter than the floor).
    """

    factor: float
    min_range_ms: int = 4_000
    min_step_ms: int = 1_000

    def __post_init__(self) -> None:
        if not self.factor > 0:
            raise ValueError(f"compression factor must be positive, got {self.factor}")

    def scale(self, text: str, floor_ms: int = 0) -> str:
        """One duration, scaled, rounded to whole milliseconds, at least ``floor_ms``.
        The original spelling is kept when the value does not change."""
        original = parse_duration(text)
        scaled = round(original / self.factor)
        if original > 0:
            scaled = max(scaled, 1)
        scaled = max(scaled, floor_ms)
        return text if scaled == original else format_duration(scaled)

    def expr(self, promql: str) -> str:
        """Scale the durations of one PromQL expression, skipping string literals and comments."""
        out: list[str] = []
        i, n = 0, len(promql)
        while i < n:
            c = promql[i]
            if c in "\"'`":
                end = _string_end(promql, i)
                out.append(promql[i:end])
                i = end
            elif c == "#":
                end = promql.find("\n", i)
                end = n if end == -1 else end
                out.append(promql[i:end])
                i = end
            elif c == "[":
                end = promql.find("]", i)
                if end == -1:
                    out.append(promql[i:])
                    break
                out.append("[" + self._range(promql[i + 1 : end]) + "]")
                i = end + 1
            elif c in "oO" and (i == 0 or not _IDENT_CHAR.match(promql[i - 1])):
                match = _OFFSET.match(promql, i)
                if match and (match.end() == n or not _IDENT_CHAR.match(promql[match.end()])):
                    ws, sign, dur = match.groups()
                    out.append(promql[i : i + 6] + ws + sign + self.scale(dur))
                    i = match.end()
                else:
                    word = re.match(r"[A-Za-z0-9_:]+", promql[i:])
                    step = len(word.group(0)) if word else 1
                    out.append(promql[i : i + step])
                    i += step
            elif _IDENT_CHAR.match(c):
                # Consume whole identifiers and numbers so "offset" is only seen as a word start.
                word = re.match(r"[A-Za-z0-9_:.]+", promql[i:])
                step = len(word.group(0)) if word else 1
                out.append(promql[i : i + step])
                i += step
            else:
                out.append(c)
                i += 1
        return "".join(out)

    def _range(self, inner: str) -> str:
        match = _RANGE.match(inner)
        if not match:
            return inner
        lead, rng, mid, colon_ws, step, trail = match.groups()
        result = lead + self.scale(rng, self.min_range_ms) + mid
        if ":" in inner:
            result += ":" + (colon_ws or "")
            if step:
                result += self.scale(step, self.min_step_ms)
            result += trail or ""
        return result

    def rules(self, document: dict[str, Any]) -> dict[str, Any]:
        """A compressed deep copy of a rule file (``{"groups": [...]}``)."""
        doc = copy.deepcopy(document)
        for group in doc.get("groups") or []:
            if isinstance(group.get("interval"), str):
                group["interval"] = self.scale(group["interval"], self.min_step_ms)
            for rule in group.get("rules") or []:
                if isinstance(rule.get("expr"), str):
                    rule["expr"] = self.expr(rule["expr"])
                for key in ("for", "keep_firing_for"):
                    if isinstance(rule.get(key), str):
                        rule[key] = self.scale(rule[key])
        return doc


def _string_end(text: str, start: int) -> int:
    """Index just past the string literal opening at ``start`` (backslash escapes in
    quoted strings; none in backtick raw strings)."""
    quote, i = text[start], start + 1
    while i < len(text):
        if text[i] == "\\" and quote != "`":
            i += 2
            continue
        if text[i] == quote:
            return i + 1
        i += 1
    return len(text)
