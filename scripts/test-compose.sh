#!/usr/bin/env bash
# The live compose tier (`make test-compose`, part of `make test`): a Docker engine, the images,
# then the compose-marked tests - the CI variant brought up in drill mode with the whole drill
# suite run against it, and the full bundle's Grafana, Loki, Tempo and Alloy checks.
#
# - Engine: the one that answers, else one started here (scripts/docker-engine.sh, as root) and
#   stopped again at the end.
# - Images: the pinned upstream images where a registry answers a pull; else stand-ins built
#   from Debian's packages of the same releases (compose.standin.yaml, scripts/standin-images.sh).
#   Grafana, Loki, Tempo and Alloy have no Debian package, so with stand-ins their live tests
#   skip, saying so. STACK_COMPOSE_OVERRIDES set beforehand (even empty) decides instead.
#
# Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "test-compose: $*" >&2; }

# An engine that already answers (one started by hand included) is left running at the end.
engine_before=$(scripts/docker-engine.sh status 2>/dev/null | grep -c '^engine:  [0-9]' || true)
if scripts/docker-engine.sh start; then
  [ "$engine_before" != 0 ] || trap 'scripts/docker-engine.sh stop' EXIT
  eval "$(scripts/docker-engine.sh env)"
elif [ -n "${CI:-}" ]; then
  say "no Docker engine could be started; CI runs the compose tier live"
  exit 1
else
  say "no Docker engine could be started: the compose tests will skip, each saying why"
fi

if [ -z "${STACK_COMPOSE_OVERRIDES+set}" ]; then
  # A registry that answers one pull answers the others; without one the pull fails at once.
  probe=$(awk '$1 == "image:" && $2 ~ /^prom\/alertmanager:/ { print $2; exit }' compose.yaml)
  if docker info >/dev/null 2>&1 && ! timeout 120 docker pull -q "$probe" >/dev/null 2>&1; then
    say "no image registry answers: using the stand-in images (compose.standin.yaml)"
    STACK_COMPOSE_OVERRIDES=compose.standin.yaml
  else
    STACK_COMPOSE_OVERRIDES=
  fi
fi
export STACK_COMPOSE_OVERRIDES
case ":$STACK_COMPOSE_OVERRIDES:" in
  *:compose.standin.yaml:*) scripts/standin-images.sh ;;
esac

mkdir -p .stack
report=.stack/compose-junit.xml
.venv/bin/pytest -m compose --junitxml="$report" "$@"

# In CI the tier runs live: the only skips allowed are the components with no package to build a
# stand-in from. Anything else skipped (no engine answering, say) fails the run, by name.
if [ -n "${CI:-}" ]; then
  .venv/bin/python - "$report" <<'PY'
import sys
import xml.etree.ElementTree as ET

allowed = "no Debian package"
bad = [
    f"{case.get('classname')}::{case.get('name')}: {skip.get('message')}"
    for case in ET.parse(sys.argv[1]).iter("testcase")
    for skip in case.iter("skipped")
    if allowed not in (skip.get("message") or "")
]
if bad:
    sys.exit("test-compose: skipped in CI, where the compose tier must run live:\n  " + "\n  ".join(bad))
PY
fi
