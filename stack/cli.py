"""``python -m stack``: the command line, as a registry of subcommands.

Built in: ``up``, ``down``, ``status``, ``render``. Another package adds a subcommand
without touching this file by shipping ``stack/<package>/commands.py`` that calls :func:`register`::

    from stack.cli import Command, register

    def configure(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("scenario", nargs="*")

    def run(args: argparse.Namespace) -> int:
        ...
        return 0

    register(Command("drill", "Run alert drills.", configure, run))

:func:`add_stack_arguments` and :func:`settings_from_args` give a subcommand the same
``--run-dir`` / ``--drill`` / port flags as ``up``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

__all__ = ["COMMANDS", "Command", "add_stack_arguments", "main", "register", "settings_from_args"]

_PORT_FLAGS = {
    "prometheus": "prometheus_port",
    "alertmanager": "alertmanager_port",
    "blackbox": "blackbox_port",
    "backend-1": "backend_1_port",
    "backend-2": "backend_2_port",
    "upstreams": "upstreams_port",
    "loadgen": "loadgen_port",
    "receiver": "receiver_port",
}


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS: dict[str, Command] = {}


def register(command: Command) -> None:
    COMMANDS[command.name] = command


def _add_port_arguments(parser: argparse.ArgumentParser) -> None:
    for name in _PORT_FLAGS:
        parser.add_argument(f"--{name}-port", type=int, metavar="PORT", dest=_PORT_FLAGS[name])


def _add_drill_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--drill", action="store_true", default=None, help="1 s intervals, compressed rules")
    parser.add_argument(
        "--factor",
        type=float,
        help="time-compression factor in drill mode (default 60; 100 when `drill` starts its own stack)",
    )


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    """``--run-dir``, ``--drill``, ``--factor`` and one ``--<component>-port`` per component;
    unset flags fall back to ``STACK_*`` environment variables, then the defaults."""
    parser.add_argument("--run-dir", type=Path, help="state, logs and data (default .stack)")
    _add_drill_arguments(parser)
    _add_port_arguments(parser)


def settings_from_args(args: argparse.Namespace) -> Any:
    from stack.native.settings import StackSettings

    given = {
        key: getattr(args, key)
        for key in ("run_dir", "drill", "factor", *(_PORT_FLAGS.values()))
        if getattr(args, key, None) is not None
    }
    if getattr(args, "timeout", None) is not None:
        given["ready_timeout_seconds"] = args.timeout
    if getattr(args, "no_loadgen", False):
        given["loadgen"] = False
    return StackSettings(**given)


def _run_dir(args: argparse.Namespace) -> Path:
    from stack.native.settings import StackSettings

    return Path(args.run_dir) if args.run_dir else StackSettings().run_dir


# --- up -------------------------------------------------------------------------------


def _configure_up(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(parser)
    parser.add_argument("--compose", action="store_true", help="use docker compose instead of processes")
    parser.add_argument(
        "--ci",
        action="store_true",
        help="with --compose: the light CI variant (implies --drill; no Grafana, Loki, Tempo, Alloy)",
    )
    parser.add_argument("--timeout", type=float, help="seconds to wait for readiness (default 60)")
    parser.add_argument("--no-loadgen", action="store_true", help="do not start the load generator")


def _compose(args: argparse.Namespace, verb: str, *command: str) -> int:
    """Run ``docker compose <command>`` with the files (and renders) the flags ask for.
    Exit 2 without a Docker engine, 1 when a file cannot be rendered."""
    from stack.native.compose import ComposeUnavailable, plan_compose
    from stack.native.render import RenderError
    from stack.native.settings import REPO_ROOT

    settings = settings_from_args(args)
    ci = bool(getattr(args, "ci", False))
    # `down` renders nothing: compose needs the files only to name the project's services.
    render = verb == "up"
    try:
        plan = plan_compose(
            settings.run_dir,
            drill=bool(settings.drill) or ci,
            ci=ci,
            factor=settings.factor,
            environ=os.environ if render else {},
            docker=shutil.which("docker"),
            provisioning_dir=settings.provisioning_dir,
            render=render,
        )
    except ComposeUnavailable as exc:
        print(f"{verb} --compose: {exc}")
        return 2
    except RenderError as exc:
        print(f"{verb} --compose: {exc}", file=sys.stderr)
        return 1
    for path in plan.rendered:
        print(f"rendered {path}")
    argv = plan.argv(*command)
    print("$ " + " ".join(argv), flush=True)
    return subprocess.run(argv, cwd=REPO_ROOT, env=plan.environ(), check=False).returncode


def _up(args: argparse.Namespace) -> int:
    if args.compose:
        return _compose(args, "up", "up", "--detach", "--wait")
    if args.ci:
        print("up: --ci chooses the light compose variant; it needs --compose", file=sys.stderr)
        return 2
    from stack.native import NativeStack, RenderError, StackError

    settings = settings_from_args(args)
    mode = f"drill mode, factor {settings.factor:g}" if settings.drill else "native"
    print(f"starting the stack ({mode}) in {settings.run_dir} ...", flush=True)
    stack = NativeStack(settings)
    try:
        stack.start()
    except (StackError, RenderError) as exc:
        print(f"up failed: {exc}", file=sys.stderr)
        return 1
    _print_table([(s.name, s.url, str(s.pid), "up" if s.healthy else "DOWN") for s in stack.status()])
    logs = stack.run_dir / "logs"
    print(f"ready in {stack.ready_seconds:.1f} s; logs in {logs}; stop with: python -m stack down")
    return 0


def _print_table(rows: Sequence[tuple[str, ...]]) -> None:
    header = ("component", "url", "pid", "health")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


# --- down / status --------------------------------------------------------------------


def _configure_run_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run-dir", type=Path, help="the stack's run directory (default .stack)")


def _configure_down(parser: argparse.ArgumentParser) -> None:
    _configure_run_dir(parser)
    parser.add_argument("--compose", action="store_true", help="`docker compose down` the compose bundle")
    parser.add_argument("--drill", action="store_true", default=None, help="with --compose: as started")
    parser.add_argument("--ci", action="store_true", help="with --compose: as started")


def _down(args: argparse.Namespace) -> int:
    if args.compose:
        return _compose(args, "down", "down")
    if args.ci:
        print("down: --ci names the light compose variant; it needs --compose", file=sys.stderr)
        return 2
    from stack.native import StackError
    from stack.native.compose import COMPOSE_STATE_FILE
    from stack.native.compose_stack import attach

    run_dir = _run_dir(args)
    try:
        # Whatever the run directory records: a compose bundle (`up --compose`) or native processes.
        stack = attach(run_dir)
    except StackError as exc:
        if (run_dir / COMPOSE_STATE_FILE).is_file():
            # A compose record but no engine to stop it with: say so, never "nothing running".
            print(f"down: {exc}", file=sys.stderr)
            return 2
        print(f"no stack running from {run_dir}")
        return 0
    stopped = stack.stop()
    print(f"stopped {', '.join(stopped) if stopped else 'nothing (every process had already exited)'}")
    return 0


def _configure_status(parser: argparse.ArgumentParser) -> None:
    _configure_run_dir(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _status(args: argparse.Namespace) -> int:
    from stack.clients import component_versions
    from stack.native import StackError
    from stack.native.compose_stack import ComposeStack, attach

    run_dir = _run_dir(args)
    try:
        stack = attach(run_dir)
    except StackError as exc:
        if args.json:
            print(json.dumps({"running": False, "run_dir": str(run_dir), "healthy": False, "components": []}))
        else:
            print(str(exc))
        return 3
    statuses = stack.status()
    healthy = all(s.healthy for s in statuses)
    if args.json:
        doc = {
            "running": True,
            "run_dir": str(stack.run_dir),
            "mode": "compose"
            if isinstance(stack, ComposeStack)
            else "drill"
            if stack.settings.drill
            else "native",
            "factor": stack.settings.factor if stack.settings.drill else 1,
            "healthy": healthy,
            "versions": component_versions(stack.urls),
            "components": [s.as_json() for s in statuses],
        }
        print(json.dumps(doc, indent=2))
    else:
        _print_table([(s.name, s.url, str(s.pid), "up" if s.healthy else "DOWN") for s in statuses])
    return 0 if healthy else 1


# --- render ---------------------------------------------------------------------------


def _configure_render(parser: argparse.ArgumentParser) -> None:
    _add_drill_arguments(parser)
    parser.add_argument(
        "--addresses",
        choices=("native", "compose"),
        default="compose",
        help="compose service addresses as written (default), or the native stack's 127.0.0.1 ports",
    )
    parser.add_argument(
        "--native-jobs",
        action="store_true",
        help="only the native stack's scrape jobs (no grafana, loki, tempo, alloy): the CI compose variant",
    )
    parser.add_argument("--out", type=Path, required=True, help="directory to write into (created)")
    _add_port_arguments(parser)


def _render(args: argparse.Namespace) -> int:
    from stack.native.render import RenderError, compose_target, drill_of, native_target, render_tree

    settings = settings_from_args(args)
    # The native stack never has the compose-only components: --native-jobs is implied there.
    target = compose_target(args.native_jobs) if args.addresses == "compose" else native_target(settings)
    drill = drill_of(settings)
    try:
        rendered = render_tree(settings.provisioning_dir, args.out, target, drill, os.environ)
    except RenderError as exc:
        print(f"render failed: {exc}", file=sys.stderr)
        return 1
    files = [
        rendered.prometheus_config,
        *rendered.rule_files,
        rendered.alertmanager_config,
        *rendered.templates,
        rendered.blackbox_config,
    ]
    mode = drill.describe() if drill else "production timers"
    print(f"rendered {len(files)} files for {target.name} ({mode}) into {args.out}")
    return 0


register(Command("up", "Start the stack and wait until it is ready.", _configure_up, _up))
register(Command("down", "Stop every process the stack started.", _configure_down, _down))
register(Command("render", "Write the rendered provisioning files.", _configure_render, _render))
register(Command("status", "Show the health of every component.", _configure_status, _status))


def _load_extensions() -> None:
    """Import ``stack/<package>/commands.py`` files; each registers its subcommands."""
    root = Path(__file__).parent
    for path in sorted(root.glob("*/commands.py")):
        importlib.import_module(f"stack.{path.parent.name}.commands")


def build_parser() -> argparse.ArgumentParser:
    _load_extensions()
    parser = argparse.ArgumentParser(prog="python -m stack", description="Run the observability bundle.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS.values():
        command.configure(sub.add_parser(command.name, help=command.help, description=command.help))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.monotonic()
    try:
        return COMMANDS[args.command].run(args)
    except KeyboardInterrupt:
        print(f"interrupted after {time.monotonic() - started:.1f} s", file=sys.stderr)
        return 130
    except ValidationError as exc:
        # Settings come from STACK_* variables and flags; name the key, not a traceback.
        bad = "; ".join(f"STACK_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        print(f"invalid stack settings: {bad}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `python -m stack status --json | head`: the reader left; say nothing more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
