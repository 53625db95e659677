# shellcheck shell=bash
# Sourced by the scripts beside it: what they share about this machine's Debian.

# The Debian mirror this machine's apt already uses, so no other host is contacted;
# DEBIAN_MIRROR overrides it. Prints nothing (and fails) when there is none.
debian_mirror() {
  local mirror=${DEBIAN_MIRROR:-}
  if [ -z "$mirror" ]; then
    mirror=$(grep -rhoE '^(URIs:|deb)[[:space:]]+(\[[^]]*\][[:space:]]+)?https?://[^[:space:]]+/debian/?' \
               /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
             | grep -oE 'https?://[^[:space:]]+' | head -n1 || true)
  fi
  [ -n "$mirror" ] || return 1
  echo "${mirror%/}"
}
