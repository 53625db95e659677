"""``python -m stack drill SCENARIO... | --all [--json] [--factor N]``.

Runs the drills against the stack of ``--run-dir`` when its state file says it runs in drill
mode; otherwise starts a drill-mode stack for the run (at the e2e tier's factor unless
``--factor`` or ``STACK_FACTOR`` says otherwise, under drill mode's load) and stops it at the
end, so a run from the command line drills exactly as the tests do. Prints a
table per alert (or one JSON document with ``--json``) and exits non-zero when any drill
failed, naming the hop that broke.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from stack.cli import Command, add_stack_arguments, register, settings_from_args

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", nargs="*", help="scenario names (stack/scenarios/<name>.yaml)")
    parser.add_argument("--all", action="store_true", help="run every scenario of the catalog")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--json", action="store_true", help="one JSON document instead of the table")
    parser.add_argument("--parallel", type=int, default=12, help="drills at most at once (default 12)")
    add_stack_arguments(parser)


def _attach_or_start(args: argparse.Namespace, err: Any) -> tuple[Any, bool]:
    """(stack, started_here)."""
    from stack.native import NativeStack, StackError
    from stack.native.compose import ComposeUnavailable
    from stack.native.compose_stack import ComposeStack, attach

    settings = settings_from_args(args)
    try:
        stack = attach(settings.run_dir)
    except ComposeUnavailable:
        raise  # `up --compose` recorded a bundle here, but no engine answers: start nothing
    except StackError:
        stack = None
    if isinstance(stack, ComposeStack):
        down = [s.name for s in stack.status() if not s.running]
        if down:
            raise StackError(
                f"the compose bundle of {settings.run_dir} is not fully running ({', '.join(down)}): "
                "`python -m stack up --compose --drill` again"
            )
    if stack is not None and all(s.running for s in stack.status()):
        if not stack.settings.drill:
            raise StackError(
                f"the stack in {settings.run_dir} runs in normal mode; drills need drill mode: "
                "`python -m stack down` then `python -m stack up --drill` (or let drill start one)"
            )
        if args.factor is not None and args.factor != stack.settings.factor:
            print(
                f"note: using the running stack's factor {stack.settings.factor:g}, not {args.factor:g}",
                file=err,
            )
        return stack, False
    print(f"no drill-mode stack running in {settings.run_dir}; starting one ...", file=err)
    from stack.drills.profile import DRILL_SUITE_FACTOR

    update: dict[str, Any] = {"drill": True}
    if "factor" not in settings.model_fields_set:
        # Neither --factor nor STACK_FACTOR: the factor the e2e tier drills at.
        update["factor"] = DRILL_SUITE_FACTOR
    fresh = NativeStack(settings.model_copy(update=update))
    fresh.start()
    print(f"stack ready in {fresh.ready_seconds:.1f} s", file=err)
    return fresh, True


def run(args: argparse.Namespace) -> int:
    from stack.alerting import load_alert_rules
    from stack.clients import component_versions
    from stack.drills.catalog import CatalogError, check_catalog, load_catalog
    from stack.drills.report import Progress, render_table
    from stack.drills.suite import DrillSession
    from stack.native import RenderError, StackError

    try:
        catalog = load_catalog()
    except CatalogError as exc:
        print(f"drill: {exc}", file=sys.stderr)
        return 2
    if args.list:
        for name, s in sorted(catalog.scenarios.items()):
            print(f"{name:<36} {', '.join(e.describe() for e in s.expect)}")
        return 0
    problems = check_catalog(catalog, load_alert_rules())
    if problems:
        print(
            "drill: the scenario catalog does not match the rules:\n  " + "\n  ".join(problems),
            file=sys.stderr,
        )
        return 2
    if args.all == bool(args.scenario):
        print("drill: name scenarios or give --all (see --list)", file=sys.stderr)
        return 2
    try:
        scenarios = list(catalog.scenarios.values()) if args.all else catalog.select(args.scenario)
    except CatalogError as exc:
        print(f"drill: {exc}", file=sys.stderr)
        return 2
    # With --json, stdout carries only the document; progress goes to a terminal on stderr.
    progress = Progress(sys.stderr) if args.json else Progress(sys.stdout)
    try:
        stack, started = _attach_or_start(args, sys.stderr)
    except (StackError, RenderError) as exc:
        print(f"drill: {exc}", file=sys.stderr)
        return 1
    try:
        with DrillSession.attach(stack, progress, max_parallel=args.parallel) as session:
            suite = session.run(scenarios)
        suite.versions = component_versions(stack.urls)
    finally:
        if started:
            stack.stop()
    suite.started_stack = started
    if args.json:
        print(json.dumps(suite.as_json(), indent=2))
    else:
        print(render_table(suite))
    return 0 if suite.ok else 1


register(Command("drill", "Run alert drills against a drill-mode stack.", configure, run))
