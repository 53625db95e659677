"""``python -m benchmarks.drills``: figures of the alert drills on this machine.

Prints the time native ``up`` takes to reach ready (normal and drill mode), the wall time of
the whole drill suite, and per alert the time to notification against its floor.

Each stack starts on free ports in a temporary directory, so a stack already running on the
default ports is left alone.

``--busy-cores N`` keeps N cores busy (a spinning process each, stopped with the run and
never living past ``--busy-limit`` seconds) for the verdicts on a machine shared with other work.
``--compose RUN_DIR`` runs the same drills against the compose bundle recorded in RUN_DIR
(``python -m stack up --compose --ci``) after the native run, and prints both side by side.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stack.drills import DrillSession, SuiteResult, load_catalog
from stack.drills.profile import DRILL_SUITE_FACTOR
from stack.drills.report import Progress
from stack.native import NativeStack, StackSettings
from stack.native.settings import free_ports


def up_to_ready(run_dir: Path, drill: bool, factor: float) -> tuple[NativeStack, float]:
    settings = StackSettings(run_dir=run_dir, drill=drill, factor=factor).model_copy(update=free_ports())
    stack = NativeStack(settings)
    stack.start()
    assert stack.ready_seconds is not None
    return stack, stack.ready_seconds


def _spin(until: float) -> None:
    while time.time() < until:
        pass


@contextmanager
def busy_cores(count: int, limit_seconds: float) -> Iterator[None]:
    """``count`` processes spinning on a core each, for the block and at most ``limit_seconds``."""
    until = time.time() + limit_seconds
    spinners = [multiprocessing.Process(target=_spin, args=(until,), daemon=True) for _ in range(count)]
    for p in spinners:
        p.start()
    try:
        yield
    finally:
        for p in spinners:
            p.terminate()
            p.join()


def side_by_side(native: SuiteResult, compose: SuiteResult) -> str:
    """Per alert: time to notification and floor, native next to compose."""
    lines = [
        f"{'alert':<64} {'native':>7} {'floor':>6} {'compose':>8} {'floor':>6}",
    ]
    by_name = {(s.name, a.name): a for s in compose.scenarios for a in s.alerts}

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    for s in native.scenarios:
        for a in s.alerts:
            c = by_name.get((s.name, a.name))
            lines.append(
                f"{s.name + ': ' + a.name:<64} {cell(a.to_notification):>7} {a.floor.notified:>6.1f} "
                f"{cell(c.to_notification if c else None):>8} {cell(c.floor.notified if c else None):>6}"
            )
    for label, suite in (("native", native), ("compose", compose)):
        passed = sum(s.ok for s in suite.scenarios)
        lines.append(f"{label}: {passed}/{len(suite.scenarios)} drills passed in {suite.wall_seconds:.1f} s")
        lines += [
            f"  {label} failed: {s.name}: {(s.error or '').splitlines()[0]}"
            for s in suite.scenarios
            if not s.ok
        ]
    return "\n".join(lines)


def report(suite: SuiteResult, up_normal: float, up_drill: float) -> str:
    lines = [
        f"native up to ready (normal mode): {up_normal:.1f} s",
        f"native up to ready (drill mode):  {up_drill:.1f} s",
        f"drill suite wall time: {suite.wall_seconds:.1f} s for {len(suite.scenarios)} drills "
        f"(factor {suite.factor:g}; {sum(s.ok for s in suite.scenarios)} passed)",
        "",
        f"{'alert':<64} {'notified':>8} {'floor':>6} {'over':>6}  within floor + 1 s",
    ]
    for s in suite.scenarios:
        for a in s.alerts:
            got, floor = a.to_notification, a.floor.notified
            verdict = "-" if got is None else ("yes" if got <= floor + 1 else "no")
            shown = "-" if got is None else f"{got:.1f}"
            over = "-" if got is None else f"{got - floor:+.1f}"
            lines.append(f"{s.name + ': ' + a.name:<64} {shown:>8} {floor:>6.1f} {over:>6}  {verdict}")
    failed = [s for s in suite.scenarios if not s.ok]
    lines += ["", *(f"failed: {s.name}: {(s.error or '').splitlines()[0]}" for s in failed)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.drills", description=__doc__)
    parser.add_argument("scenario", nargs="*", help="scenarios to run (default: the whole catalog)")
    parser.add_argument(
        "--factor",
        type=float,
        default=DRILL_SUITE_FACTOR,
        help="time-compression factor (default: the e2e tier's)",
    )
    parser.add_argument("--progress", action="store_true", help="print each hop as it happens")
    parser.add_argument("--busy-cores", type=int, default=0, help="cores kept busy during the run")
    parser.add_argument(
        "--busy-limit", type=float, default=1200.0, help="seconds after which the busy cores stop anyway"
    )
    parser.add_argument("--compose", type=Path, help="also drill the compose bundle recorded in this run dir")
    args = parser.parse_args(argv)
    catalog = load_catalog()
    scenarios = catalog.select(args.scenario) if args.scenario else list(catalog.scenarios.values())
    progress = Progress(sys.stderr, enabled=args.progress)
    started = time.time()
    with (
        busy_cores(args.busy_cores, args.busy_limit),
        tempfile.TemporaryDirectory(prefix="drill-bench-") as tmp,
    ):
        normal, up_normal = up_to_ready(Path(tmp) / "normal", drill=False, factor=args.factor)
        normal.stop()
        stack, up_drill = up_to_ready(Path(tmp) / "drill", drill=True, factor=args.factor)
        try:
            with DrillSession.attach(stack, progress=progress) as session:
                suite = session.run(scenarios)
        finally:
            stack.stop()
        busy_for = time.time() - started
        ended = " (they stopped at --busy-limit before the run ended)" if busy_for > args.busy_limit else ""
        print(f"busy cores: {args.busy_cores}{ended}")
        print(report(suite, up_normal, up_drill))
        if args.compose is None:
            return 0 if suite.ok else 1
        from stack.native.compose_stack import ComposeStack

        with DrillSession.attach(ComposeStack.attach(args.compose), progress=progress) as session:
            compose_suite = session.run(scenarios)
    print()
    print(side_by_side(suite, compose_suite))
    return 0 if suite.ok and compose_suite.ok else 1


if __name__ == "__main__":
    sys.exit(main())
