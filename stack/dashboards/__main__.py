"""``python -m stack.dashboards [--check] [--out DIR]``: write or verify the dashboard JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._render import DASHBOARD_DIR, build_all, render, write_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stack.dashboards", description=__doc__)
    parser.add_argument("--out", type=Path, default=DASHBOARD_DIR, help="directory of the JSON files")
    parser.add_argument("--check", action="store_true", help="fail when a committed file differs")
    args = parser.parse_args(argv)
    out: Path = args.out
    if not args.check:
        for path in write_all(out):
            print(path)
        return 0
    stale = [
        uid
        for uid, model in build_all().items()
        if not (out / f"{uid}.json").is_file()
        or (out / f"{uid}.json").read_text(encoding="utf-8") != render(model)
    ]
    if stale:
        print(f"stale dashboards (run `python -m stack.dashboards`): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
