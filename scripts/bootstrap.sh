#!/usr/bin/env bash
# Installs everything the bundle and its tests need on a Debian machine, idempotently:
# the Debian packages of Prometheus, Alertmanager and the blackbox exporter (when missing
# and we are root), then a virtualenv in .venv with the project and its dev tools.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
APT_PACKAGES=(prometheus prometheus-alertmanager prometheus-blackbox-exporter)
NEEDED_BINARIES=(prometheus promtool prometheus-alertmanager amtool prometheus-blackbox-exporter)

missing=()
for b in "${NEEDED_BINARIES[@]}"; do command -v "$b" >/dev/null 2>&1 || missing+=("$b"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing ${APT_PACKAGES[*]} (missing: ${missing[*]})"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    # --no-install-recommends: the node exporter and other recommends are not used here.
    apt-get install -y -q --no-install-recommends "${APT_PACKAGES[@]}" >/dev/null
    # Debian's packages start their services where an init system runs; this bundle starts
    # its own processes on its own ports, so stop those if they came up.
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
      systemctl disable --now prometheus prometheus-alertmanager prometheus-blackbox-exporter \
        prometheus-node-exporter >/dev/null 2>&1 || true
    fi
  else
    echo "bootstrap: missing ${missing[*]}; install the Debian packages ${APT_PACKAGES[*]}" \
         "(apt-get install ${APT_PACKAGES[*]}) to run the native stack. The tiers that need them will skip."
  fi
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
