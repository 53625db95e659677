#!/usr/bin/env bash
# A Docker engine for the compose bundle and its tests, on a machine that has none running:
#
#   scripts/docker-engine.sh start    # install what is missing, start an engine unless one answers
#   eval "$(scripts/docker-engine.sh env)"   # DOCKER_HOST (and DOCKER_CONFIG) for the shell
#   scripts/docker-engine.sh status   # which engine answers, which client and compose
#   scripts/docker-engine.sh stop     # stop the engine this script started (never another one)
#   scripts/docker-engine.sh purge    # stop it and delete its data root: every image, volume, cache
#
# An engine that already answers (at DOCKER_HOST, else the default socket) is used as it is.
# Otherwise, as root: Debian's docker.io is installed when dockerd is missing, and dockerd runs
# with its own socket, state and data root, so it never collides with a system Docker.
# Compose v2 comes from Debian's newer suites (bookworm has none), unpacked into .tools/compose
# without touching the system's apt configuration, and found through DOCKER_CONFIG.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/debian.sh
. scripts/lib/debian.sh
repo=$PWD

# Runtime state (exec root, socket, pid file, log): gone at reboot like the engine itself.
# Kept short: a unix socket path has at most 107 characters.
run_dir=${APG_DOCKER_RUN:-/run/apg-docker}
# Images, layers, volumes and build cache. Outside the checkout so git, ruff, pytest and the
# image build context never walk it, and on the root file system (ext4 here), which overlay2
# needs as its backing store. `purge` deletes it.
data_root=${APG_DOCKER_DATA:-/var/lib/apg-docker}
socket=$run_dir/docker.sock
pidfile=$run_dir/dockerd.pid
log=$run_dir/dockerd.log
own_host=unix://$socket
# The docker CLI finds plugins in $DOCKER_CONFIG/cli-plugins; .tools/ is git-ignored.
compose_config=$repo/.tools/compose
compose_plugin=$compose_config/cli-plugins/docker-compose
# The Compose line the bundle is tested with; another 2.x is taken (and named) when the
# suites have moved on.
compose_minor=${APG_COMPOSE_VERSION:-2.40}
# Seconds the engine gets to answer after dockerd starts, and to exit after SIGTERM (it stops
# its containers first, each with its own grace period).
start_timeout=${APG_DOCKER_START_TIMEOUT:-60}
stop_timeout=${APG_DOCKER_STOP_TIMEOUT:-60}

# Scratch directories (a debootstrapped tree is root-owned and large): removed at exit, also
# when a step fails and `set -e` or `die` ends the script.
scratch=()
trap 'rm -rf "${scratch[@]}"' EXIT

say() { echo "docker-engine: $*" >&2; }
die() { say "$*"; exit 1; }

client() {
  # Any client works: both the CLI and compose negotiate the API version down to the engine's
  # (Debian's engine 20.10 speaks API 1.41).
  command -v docker 2>/dev/null || true
}

# True when an engine answers at $1 (a DOCKER_HOST value) within a few seconds.
answers() {
  local docker
  docker=$(client)
  [ -n "$docker" ] || return 1
  # `timeout`: a socket whose engine hangs must not hang the caller.
  DOCKER_HOST=$1 timeout 5 "$docker" version --format '{{.Server.Version}}' >/dev/null 2>&1
}

# The DOCKER_HOST of the first engine that answers: DOCKER_HOST as set, the default socket,
# then ours. Empty when none does.
answering_host() {
  local host
  for host in ${DOCKER_HOST:+"$DOCKER_HOST"} unix:///var/run/docker.sock "$own_host"; do
    if answers "$host"; then
      echo "$host"
      return 0
    fi
  done
  return 0
}

own_pid() {
  # The pid of the dockerd this script started, when that process still runs.
  local pid
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [ -n "$pid" ] && [ -d "/proc/$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || return 1
  echo "$pid"
}

mirror_or_die() {
  debian_mirror || die "no Debian mirror found in /etc/apt/sources.list*; set DEBIAN_MIRROR"
}

install_engine() {
  command -v dockerd >/dev/null 2>&1 && return 0
  [ "$(id -u)" = 0 ] || die "dockerd is not installed and this is not root: apt-get install docker.io"
  command -v apt-get >/dev/null 2>&1 || die "dockerd is not installed and there is no apt-get"
  say "installing docker.io (Debian's Docker engine)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  # --no-install-recommends: apparmor, git, needrestart and the rest are not needed to run it.
  apt-get install -y -q --no-install-recommends docker.io >/dev/null
  # A Debian package may start its service where an init system runs; this script runs its
  # own engine on its own socket, so leave the system one as the administrator set it up.
}

install_compose() {
  if [ -x "$compose_plugin" ] && [ -f "$compose_config/.version" ]; then
    return 0
  fi
  local mirror keyring tmp apt_opts chosen
  mirror=$(mirror_or_die)
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [ -r "$keyring" ] || die "$keyring missing (apt-get install debian-archive-keyring)"
  tmp=$(mktemp -d)
  scratch+=("$tmp")
  mkdir -p "$tmp"/apt/{lists/partial,cache/archives/partial} "$tmp/deb"
  # Private sources list, lists and cache: the system's apt state is neither read nor changed.
  for suite in sid trixie; do
    echo "deb [signed-by=$keyring] $mirror $suite main"
  done >"$tmp/apt/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$tmp/apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent
            -o "Dir::State::Lists=$tmp/apt/lists" -o "Dir::Cache=$tmp/apt/cache"
            -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
  say "reading the package lists of sid and trixie from $mirror for docker-compose"
  apt-get -qq "${apt_opts[@]}" update
  # The wanted minor line first, else the newest Compose v2.
  chosen=$(apt-cache "${apt_opts[@]}" madison docker-compose | awk -F'|' -v minor="$compose_minor" '
      { v = $2; gsub(/ /, "", v); up = v; sub(/^[0-9]+:/, "", up)
        if (index(up, minor ".") == 1) print 0, v; else if (index(up, "2.") == 1) print 1, v }' \
    | sort -k1,1n -k2,2Vr | head -n1 | cut -d' ' -f2)
  [ -n "$chosen" ] || die "no docker-compose 2.x in sid or trixie at $mirror"
  case "$chosen" in "$compose_minor".*) ;; *) say "docker-compose $compose_minor.x is gone; taking $chosen" ;; esac
  (cd "$tmp/deb" && apt-get -qq "${apt_opts[@]}" download "docker-compose=$chosen")
  # Only unpacked: a Go binary that needs nothing but libc6 >= 2.34, which bookworm has.
  dpkg-deb -x "$tmp"/deb/docker-compose_*.deb "$tmp/root"
  mkdir -p "$compose_config/cli-plugins"
  install -m 0755 "$tmp/root/usr/libexec/docker/cli-plugins/docker-compose" "$compose_plugin"
  echo "$chosen" >"$compose_config/.version"
  say "docker-compose $chosen in $compose_plugin"
}

# True when `docker compose` works without our DOCKER_CONFIG (a system or user plugin).
compose_elsewhere() {
  local docker
  docker=$(client)
  [ -n "$docker" ] && [ "${DOCKER_CONFIG:-}" != "$compose_config" ] \
    && timeout 10 "$docker" compose version >/dev/null 2>&1
}

start_engine() {
  [ "$(id -u)" = 0 ] || die "no Docker engine answers, and starting one needs root"
  mkdir -p "$run_dir" "$data_root"
  say "starting dockerd on $own_host (data root $data_root, log $log)"
  # setsid: the engine outlives this script and the shell that ran it, and a Ctrl-C in that
  # shell does not reach it. Every flag that differs from dockerd's defaults, and why:
  #   --host                   our own socket, so a system engine on the default one is untouched
  #   --data-root / --exec-root / --pidfile   our own state, likewise
  #   --iptables=false / --ip6tables=false    the host's firewall stays as it is: dockerd
  #                            would add its chains, NAT rules and a FORWARD policy of DROP.
  #                            The bundle needs none of it: containers talk over their compose
  #                            network, published ports go through docker-proxy on 127.0.0.1,
  #                            and nothing in a container reaches the outside
  #   --bridge=none            no default docker0 bridge, whose containers would need that NAT
  #                            to go anywhere; compose creates its own project network, and
  #                            image builds that download use the host's network
  #   --storage-driver=overlay2  stated so the engine fails loudly instead of falling back to
  #                            vfs, which copies every layer in full and builds several times slower;
  #                            vfs only where the data root sits on an overlay itself (a container's
  #                            root file system), which overlay2 cannot stack on
  local driver=overlay2
  mkdir -p "$data_root"
  if [ "$(stat -f -c %T "$data_root")" = overlayfs ]; then
    driver=vfs
    say "$data_root is on overlayfs: the engine uses the slower vfs storage driver"
  fi
  setsid dockerd \
    --host "$own_host" \
    --data-root "$data_root" \
    --exec-root "$run_dir/exec" \
    --pidfile "$pidfile" \
    --iptables=false \
    --ip6tables=false \
    --bridge=none \
    --storage-driver="$driver" \
    </dev/null >>"$log" 2>&1 &
  local launcher=$! deadline=$((SECONDS + start_timeout))
  until answers "$own_host"; do
    if ! kill -0 "$launcher" 2>/dev/null; then
      tail -n 20 "$log" >&2 || true
      die "dockerd exited before it answered; its log: $log"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 20 "$log" >&2 || true
      die "dockerd did not answer on $own_host within ${start_timeout}s; its log: $log"
    fi
    sleep 0.2
  done
  say "engine $(DOCKER_HOST=$own_host "$(client)" version --format '{{.Server.Version}}') answers on $own_host"
}

cmd_start() {
  local host
  host=$(answering_host)
  # An engine that answers needs nothing installed but compose.
  [ -n "$host" ] || install_engine
  [ -n "$(client)" ] || die "no docker client on PATH (apt-get install docker.io)"
  compose_elsewhere || install_compose
  if [ -n "$host" ]; then
    say "an engine already answers on $host; using it"
  else
    start_engine
  fi
}

cmd_env() {
  local host
  host=$(answering_host)
  [ -n "$host" ] || die "no Docker engine answers; run: scripts/docker-engine.sh start"
  echo "export DOCKER_HOST=$host"
  if ! compose_elsewhere && [ -x "$compose_plugin" ]; then
    echo "export DOCKER_CONFIG=$compose_config"
  fi
}

cmd_status() {
  local host docker pid rc=0
  docker=$(client)
  host=$(answering_host)
  if [ -n "$host" ]; then
    echo "engine:  $(DOCKER_HOST=$host "$docker" version --format '{{.Server.Version}} (API {{.Server.APIVersion}})') on $host"
  else
    echo "engine:  none answers"
    rc=1
  fi
  if pid=$(own_pid); then
    echo "dockerd: pid $pid, started by this script (data root $data_root)"
  fi
  if [ -n "$docker" ]; then
    echo "client:  $docker $("$docker" version --format '{{.Client.Version}}' 2>/dev/null || true)"
  else
    echo "client:  none"
    rc=1
  fi
  if compose_elsewhere; then
    echo "compose: $("$docker" compose version --short)"
  elif [ -x "$compose_plugin" ]; then
    echo "compose: $(DOCKER_CONFIG=$compose_config "$docker" compose version --short) in $compose_plugin"
  else
    echo "compose: not installed"
    rc=1
  fi
  return "$rc"
}

cmd_stop() {
  local pid deadline
  if ! pid=$(own_pid); then
    say "no engine started by this script runs; nothing to stop"
    return 0
  fi
  say "stopping dockerd (pid $pid)"
  kill -TERM "$pid"
  deadline=$((SECONDS + stop_timeout))
  while [ -d "/proc/$pid" ]; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "dockerd (pid $pid) still runs after ${stop_timeout}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$pidfile"
}

cmd_purge() {
  local mount
  cmd_stop
  # Read-only look-up: a dockerd this script did not start may use the same directories.
  if pgrep -f -- "--data-root $data_root" >/dev/null; then
    die "a dockerd still runs on $data_root; stop it first"
  fi
  # dockerd leaves its default network namespace (and at times the data root's own bind
  # mount) mounted after it exits; deepest first.
  awk -v run="$run_dir" -v data="$data_root" \
      '$2 == data || index($2, data "/") == 1 || index($2, run "/") == 1 { print $2 }' /proc/mounts \
    | sort -r | while read -r mount; do umount "$mount" || umount -l "$mount"; done
  if [ -d "$data_root" ]; then
    say "deleting $data_root (every image, container, volume and build cache of this engine)"
    rm -rf "$data_root"
  fi
  rm -rf "$run_dir"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  purge) cmd_purge ;;
  *) echo "usage: $0 start|stop|status|env|purge" >&2; exit 2 ;;
esac
