#!/usr/bin/env bash
# Builds the images compose.standin.yaml runs, for a Docker engine that reaches no image
# registry, idempotently (an image whose tag exists with the same inputs is kept):
#
#   scripts/standin-images.sh          # build what is missing or out of date
#   scripts/standin-images.sh clean    # remove every image built here, and the project's image
#
#   alert-proving-ground/standin-base:bookworm    debootstrap --variant=minbase of bookworm,
#                                                 plus busybox's wget for the healthchecks
#   alert-proving-ground/standin-python:...       Debian's python3 on that base
#   alert-proving-ground/standin-prometheus:...   Debian's builds of the releases pinned in
#   alert-proving-ground/standin-alertmanager:... scripts/tools.lock, from .tools/ (run
#   alert-proving-ground/standin-blackbox-exporter:...   scripts/fetch-tools.sh first)
#
# Tags come from compose.standin.yaml; a build stops when the binary in .tools/ is another
# release than its tag says. Needs a running engine (scripts/docker-engine.sh start) and,
# for the base, root (debootstrap).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/debian.sh
. scripts/lib/debian.sh
repo=$PWD
override=$repo/compose.standin.yaml
tools=$repo/.tools/root
# Every image built here carries this label, with a digest of its inputs as the value.
label=alert-proving-ground.standin
base_tag=alert-proving-ground/standin-base:bookworm
suite=bookworm
# busybox: the compose healthchecks run `wget -q --spider`, as the busybox-based prom/* images
# have it. ca-certificates: https probes and downloads. tzdata: Alertmanager's time intervals.
base_packages=busybox,ca-certificates,tzdata
# The legacy builder: Debian's engine 20.10 has no buildx plugin for the client's BuildKit path.
export DOCKER_BUILDKIT=0

# Scratch directories (a debootstrapped tree is root-owned and large): removed at exit, also
# when a step fails and `set -e` or `die` ends the script.
scratch=()
trap 'rm -rf "${scratch[@]}"' EXIT

say() { echo "standin-images: $*" >&2; }
die() { say "$*"; exit 1; }

# The image a service of compose.standin.yaml names.
image_of() {
  awk -v svc="  $1:" '$0 == svc { found = 1; next }
                      found && /^  [^ #]/ { exit }
                      found && $1 == "image:" { print $2; exit }' "$override"
}

python_tag() {
  awk '$1 == "PYTHON_BASE:" { print $2; exit }' "$override"
}

# The project's own image, which compose builds on the stand-in Python base.
project_tag() {
  awk '$1 == "image:" && $2 ~ /^alert-proving-ground\/python:/ { print $2; exit }' "$repo/compose.yaml"
}

mirror_or_die() {
  debian_mirror || die "no Debian mirror found in /etc/apt/sources.list*; set DEBIAN_MIRROR"
}

# The input digest recorded on an existing image; empty when the tag does not exist.
recorded_digest() {
  docker image inspect --format "{{ index .Config.Labels \"$label\" }}" "$1" 2>/dev/null || true
}

# A digest of every file of a build context (names and contents).
context_digest() {
  (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
}

# x.y.z of the tag; dies unless `binary --version` reports the same release.
check_release() {
  local binary=$1 tag=$2 want found
  [ -x "$binary" ] || die "$binary missing: run scripts/fetch-tools.sh (or make bootstrap)"
  want=${tag##*:}
  found=$("$binary" --version 2>&1 | grep -oE 'version v?[0-9]+\.[0-9]+\.[0-9]+' | head -n1 | grep -oE '[0-9.]+$')
  [ "$found" = "$want" ] || die "$binary is $found but compose.standin.yaml tags it $tag: update the tag"
}

build_base() {
  local digest tmp mirror started
  digest=$(echo "$suite minbase $base_packages wget-link" | sha256sum | cut -c1-16)
  if [ "$(recorded_digest "$base_tag")" = "$digest" ]; then
    say "$base_tag is up to date"
    return 0
  fi
  [ "$(id -u)" = 0 ] || die "building $base_tag needs root (debootstrap)"
  if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive \
             apt-get install -y -q --no-install-recommends debootstrap >/dev/null; }
  fi
  mirror=$(mirror_or_die)
  tmp=$(mktemp -d /var/tmp/standin-base.XXXXXX)
  # The tree is root-owned and large: removed whatever happens.
  scratch+=("$tmp")
  started=$SECONDS
  say "debootstrap $suite (minbase + $base_packages) from $mirror"
  debootstrap --variant=minbase --include="$base_packages" "$suite" "$tmp/root" "$mirror" >"$tmp/log" 2>&1 \
    || { tail -n 20 "$tmp/log" >&2; die "debootstrap failed"; }
  # Only wget: busybox's other applets would shadow coreutils. /usr/local/bin is outside
  # dpkg's files, so a later `apt-get install wget` in a derived image does not collide.
  ln -s /bin/busybox "$tmp/root/usr/local/bin/wget"
  # The downloaded packages are installed; their archives are dead weight in every image.
  rm -rf "$tmp"/root/var/cache/apt/archives/*.deb "$tmp"/root/var/lib/apt/lists/*
  tar -C "$tmp/root" --numeric-owner -c . \
    | docker import \
        --change "LABEL $label=$digest" \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["/bin/bash"]' \
        - "$base_tag" >/dev/null
  say "$base_tag built in $((SECONDS - started)) s"
}

# build_image TAG DOCKERFILE_DIR [SOURCE TARGET]...: the Dockerfile and each SOURCE (hard
# linked when possible: the binaries are large) staged as TARGET in a fresh context, built
# unless the tag exists with the same context digest.
build_image() {
  local tag=$1 dir=$2 ctx digest started out
  shift 2
  ctx=$(mktemp -d /var/tmp/standin-ctx.XXXXXX)
  scratch+=("$ctx")
  cp "$dir/Dockerfile" "$ctx/Dockerfile"
  while [ $# -gt 0 ]; do
    mkdir -p "$(dirname "$ctx/$2")"
    if [ -d "$1" ]; then
      cp -a "$1" "$ctx/$2"
    else
      ln "$1" "$ctx/$2" 2>/dev/null || cp -a "$1" "$ctx/$2"
    fi
    shift 2
  done
  # The base's digest is part of the inputs: a new base rebuilds everything on it.
  digest=$( (context_digest "$ctx"; recorded_digest "$base_tag") | sha256sum | cut -c1-16)
  if [ "$(recorded_digest "$tag")" = "$digest" ]; then
    say "$tag is up to date"
    return 0
  fi
  started=$SECONDS
  say "building $tag"
  # --network host: the engine runs without a default bridge (scripts/docker-engine.sh), and
  # the Python base downloads from the Debian mirror. The output (and the client's notice
  # that the legacy builder is deprecated) is shown only when the build fails.
  if ! out=$(docker build --network host --build-arg "BASE=$base_tag" --label "$label=$digest" \
               -t "$tag" "$ctx" 2>&1); then
    echo "$out" | tail -n 30 >&2
    die "building $tag failed"
  fi
  say "$tag built in $((SECONDS - started)) s"
}

cmd_build() {
  local prometheus alertmanager blackbox python cas
  docker version >/dev/null 2>&1 || die "no Docker engine answers: scripts/docker-engine.sh start, then eval \"\$(scripts/docker-engine.sh env)\""
  prometheus=$(image_of prometheus)
  alertmanager=$(image_of alertmanager)
  blackbox=$(image_of blackbox)
  python=$(python_tag)
  if [ -z "$prometheus" ] || [ -z "$alertmanager" ] || [ -z "$blackbox" ] || [ -z "$python" ]; then
    die "could not read the stand-in tags from $override"
  fi
  check_release "$tools/usr/bin/prometheus" "$prometheus"
  check_release "$tools/usr/bin/prometheus-alertmanager" "$alertmanager"
  check_release "$tools/usr/bin/prometheus-blackbox-exporter" "$blackbox"

  build_base
  # The host's added certificate authorities (standin/python/Dockerfile says why).
  cas=$(mktemp -d /var/tmp/standin-ca.XXXXXX)
  find /usr/local/share/ca-certificates -name '*.crt' -exec cp {} "$cas/" \; 2>/dev/null || true
  build_image "$python" standin/python "$cas" host-ca
  rm -rf "$cas"
  build_image "$prometheus" standin/prometheus \
    "$tools/usr/bin/prometheus" prometheus \
    "$tools/usr/bin/promtool" promtool \
    "$tools/usr/share/prometheus/web" share/web \
    "$tools/etc/prometheus/prometheus.yml" prometheus.yml
  build_image "$alertmanager" standin/alertmanager \
    "$tools/usr/bin/prometheus-alertmanager" prometheus-alertmanager \
    "$tools/usr/bin/amtool" amtool \
    "$tools/usr/share/prometheus/alertmanager" share \
    "$tools/etc/prometheus/alertmanager.yml" alertmanager.yml
  build_image "$blackbox" standin/blackbox-exporter \
    "$tools/usr/bin/prometheus-blackbox-exporter" prometheus-blackbox-exporter \
    "$tools/etc/prometheus/blackbox.yml" blackbox.yml
}

cmd_clean() {
  local images=() project
  docker version >/dev/null 2>&1 || { say "no Docker engine answers; nothing to clean"; return 0; }
  project=$(project_tag)
  # The project's image first: it is built on the stand-in Python base.
  if [ -n "$project" ] && docker image inspect "$project" >/dev/null 2>&1; then
    docker image rm "$project" >/dev/null && say "removed $project"
  fi
  mapfile -t images < <(docker image ls --filter "label=$label" --format '{{.Repository}}:{{.Tag}}' \
                         | grep -v '<none>' || true)
  if [ ${#images[@]} -gt 0 ]; then
    docker image rm "${images[@]}" >/dev/null
    say "removed ${images[*]}"
  fi
  # The legacy builder's intermediate layers left untagged by the builds above; only ours (an
  # engine shared with other projects keeps theirs; scripts/docker-engine.sh purge drops all).
  docker image prune --force --filter "label=$label" >/dev/null
}

case "${1:-build}" in
  build) cmd_build ;;
  clean) cmd_clean ;;
  *) echo "usage: $0 [build|clean]" >&2; exit 2 ;;
esac
