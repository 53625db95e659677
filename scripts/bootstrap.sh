#!/usr/bin/env bash
# Installs everything the bundle and its tests need on a Debian machine, idempotently:
# Prometheus, Alertmanager and the blackbox exporter at compose.yaml's versions in .tools/,
# then a virtualenv in .venv with the project and its dev tools.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}

# Prometheus, promtool, Alertmanager, amtool and the blackbox exporter at the versions
# compose.yaml pins, unpacked into .tools/ (scripts/tools.lock says which and from where).
# Without root, a fetch that cannot finish (Alertmanager's templates go to /usr/share) leaves
# the tiers that need no binary runnable; those that do skip, naming what is missing.
if ! ./scripts/fetch-tools.sh; then
  [ "$(id -u)" = 0 ] && exit 1
  echo "bootstrap: the pinned binaries are not installed; the rules, e2e and compose tiers will skip" >&2
fi

stamp=.venv/.installed
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# Reinstall only when the dependency list changed since the last install.
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/pip install -q --disable-pip-version-check -e '.[dev]'
  touch "$stamp"
fi
