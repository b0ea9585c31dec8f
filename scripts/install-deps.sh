#!/usr/bin/env bash
# Installs what pciesim needs on Debian 12 (bookworm). Idempotent: packages already present
# are skipped by apt, and nothing is installed when everything is there already.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config
  libsystemc-dev libboost-graph-dev nlohmann-json3-dev libcli11-dev libvalijson-dev libfmt-dev
  libssl-dev # libcrypto: SHA-256 of a sweep's inputs
  libgtest-dev libgmock-dev libbenchmark-dev graphviz libxml2-utils
  libxml2-dev # the tests parse report SVG/HTML with libxml2
  gtkwave # its vcd2fst checks `run --vcd` output in the tests
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y --no-install-recommends "${missing[@]}"
fi
