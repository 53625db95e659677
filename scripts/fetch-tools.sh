#!/usr/bin/env bash
# Installs the binaries pinned in scripts/tools.lock into .tools/ (bin/ holds the commands),
# from Debian's newer suites, without touching the system: apt runs on a private sources list,
# package lists and cache under .tools/apt, and each .deb is only unpacked (dpkg-deb -x).
# They are Go binaries that need nothing but libc6 >= 2.34, so they run on bookworm.
# Idempotent: does nothing while .tools/ matches the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=$PWD/.tools
lock=scripts/tools.lock
stamp=$tools/.lock

if [ -f "$stamp" ] && cmp -s "$lock" "$stamp" && [ -x "$tools/bin/prometheus" ] \
   && cmp -s "$tools/root/usr/share/prometheus/alertmanager/default.tmpl" \
             /usr/share/prometheus/alertmanager/default.tmpl; then
  exit 0
fi

# shellcheck source=scripts/lib/debian.sh
. scripts/lib/debian.sh
if ! mirror=$(debian_mirror); then
  echo "fetch-tools: no Debian mirror found in /etc/apt/sources.list*; set DEBIAN_MIRROR" >&2
  exit 1
fi
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || { echo "fetch-tools: $keyring missing (apt-get install debian-archive-keyring)" >&2; exit 1; }

# Everything is fetched into a staging directory and moved into place only once complete: a
# failed fetch leaves the previous tools (and a stack running them) alone. Other things kept
# in .tools/ (the Compose plugin) are not touched.
staging=$tools/.staging
root=$staging
rm -rf "$staging"
trap 'rm -rf "$staging"' EXIT
mkdir -p "$root"/apt/{lists/partial,cache/archives/partial,etc} "$root"/debs "$root"/root "$root"/bin
suites=$(grep -vE '^\s*(#|$)' "$lock" | awk '{for (i = 3; i <= NF; i++) print $i}' | sort -u)
for s in $suites; do
  echo "deb [signed-by=$keyring] $mirror $s main"
done >"$root/apt/etc/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$root/apt/etc/sources.list" -o Dir::Etc::SourceParts=/nonexistent
          -o "Dir::State::Lists=$root/apt/lists" -o "Dir::Cache=$root/apt/cache"
          -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
echo "fetch-tools: reading package lists of $(tr "\n" " " <<<"$suites")from $mirror"
apt-get -qq "${apt_opts[@]}" update

while read -r package version wanted_suites; do
  case "$package" in ''|'#'*) continue ;; esac
  minor=${version%.*}
  # Every (version, suite) apt knows for the package; take the exact upstream release first,
  # else the newest patch release of the same major.minor, from the suites the lock names.
  chosen=$(apt-cache "${apt_opts[@]}" madison "$package" | awk -F'|' -v want="$version" -v minor="$minor" \
    -v suites=" $wanted_suites " '
      { v = $2; gsub(/ /, "", v); split($3, parts, " "); suite = parts[2]; sub(/\/.*/, "", suite)
        up = v; sub(/^[0-9]+:/, "", up); sub(/[+~-].*/, "", up)
        if (index(suites, " " suite " ") == 0) next
        if (up == want) { print 0, v; next }
        if (index(up, minor ".") == 1) print 1, v }' | sort -k1,1n -k2,2Vr | head -n1 | cut -d' ' -f2)
  if [ -z "$chosen" ]; then
    echo "fetch-tools: $package $minor.x is in none of: $wanted_suites ($lock)" >&2
    exit 1
  fi
  case "$chosen" in "$version"[+~-]*|"$version") ;; *)
    echo "fetch-tools: $package $version is gone from $wanted_suites; taking $chosen (same $minor line)" ;;
  esac
  (cd "$root/debs" && apt-get -qq "${apt_opts[@]}" download "$package=$chosen")
done <"$lock"

for deb in "$root"/debs/*.deb; do dpkg-deb -x "$deb" "$root/root"; done
for b in prometheus promtool prometheus-alertmanager amtool prometheus-blackbox-exporter; do
  [ -x "$root/root/usr/bin/$b" ] || { echo "fetch-tools: $b not in the fetched packages" >&2; exit 1; }
  ln -s "../root/usr/bin/$b" "$root/bin/$b"
done
rm -rf "$root/apt"
rm -rf "${tools:?}/bin" "${tools:?}/root" "${tools:?}/debs"
mv "$staging/bin" "$staging/root" "$staging/debs" "$tools/"
root=$tools

# Debian builds Alertmanager to read its default notification templates from this directory
# instead of embedding them, so they have to be there; they are the package's own files, put
# where the package would put them. A different Alertmanager package owning them is left alone.
share=/usr/share/prometheus/alertmanager
if ! cmp -s "$root/root$share/default.tmpl" "$share/default.tmpl" 2>/dev/null; then
  if dpkg -S "$share/default.tmpl" >/dev/null 2>&1; then
    echo "fetch-tools: $share is owned by the system's $(dpkg -S "$share/default.tmpl" | cut -d: -f1)" \
         "package of another Alertmanager version; remove it (apt-get remove prometheus-alertmanager)" >&2
    exit 1
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "fetch-tools: Alertmanager needs its templates in $share; run this script as root once" >&2
    exit 1
  fi
  install -d "$share"
  install -m 0644 "$root/root$share"/*.tmpl "$share/"
fi
cp "$lock" "$stamp"
for b in prometheus prometheus-alertmanager prometheus-blackbox-exporter; do
  echo "fetch-tools: $("$root/bin/$b" --version 2>&1 | head -n1)"
done
