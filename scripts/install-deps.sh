#!/usr/bin/env bash
# Installs what pciesim needs on Debian 12 (bookworm). Idempotent: packages already present
# are skipped by apt, and nothing is installed when everything is there already.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config
  libsystemc-dev libboost-graph-dev nlohmann-json3-dev libcli11-dev libvalijson-dev libfmt-dev
  nettle-dev # SHA-256 of a sweep's inputs
  libgtest-dev libgmock-dev graphviz libxml2-utils
  libxml2-dev # the tests parse report SVG/HTML with libxml2
  gtkwave # its vcd2fst checks `run --vcd` output in the tests
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
apt_command="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
elif command -v sudo >/dev/null 2>&1; then
  sudo apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
else
  # Not root and no sudo: say what to run as root rather than fail on a missing command.
  echo "install-deps.sh: missing packages; as root, run:" >&2
  echo "  $apt_command" >&2
  exit 1
fi
