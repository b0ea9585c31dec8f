#!/usr/bin/env bash
# Collects what pciesim needs to model this Linux machine into one JSON file (issue 19's
# snapshot, read by the coming `pciesim import`): the PCI tree and capabilities (lspci), each
# PCI function's sysfs attributes (ids, class, NUMA node, trained and maximum link, BARs), the
# IOMMU groups, the CPUs and sockets, the kernel command line, and `nvidia-smi topo -m` when
# present. It only reads; it needs no root (as root, lspci -vvv also shows the capabilities,
# ACS, ATS and MPS among them, that a user cannot read), and every tool it lacks is listed in
# the file's "missing" array rather than failing the snapshot.
#
#   scripts/snapshot-machine.sh [OUTPUT.json]      (default: snapshot-<host>.json here)
#
# The output is written to a temporary file beside it and renamed at the end, so it is whole
# or absent; an existing OUTPUT that is not a regular file (a directory, a device, a FIFO, a
# symbolic link) is refused, exit 2.
set -euo pipefail
export LC_ALL=C

sysfs=${PCIESIM_SNAPSHOT_SYSFS:-/sys} # tests point this at a fake tree
proc=${PCIESIM_SNAPSHOT_PROC:-/proc}
output=${1:-snapshot-$(uname -n).json}

if [[ -L $output || (-e $output && ! -f $output) ]]; then
  echo "snapshot-machine.sh: $output exists and is not a regular file; nothing written" >&2
  exit 2
fi
dir=$(dirname -- "$output")
if [[ ! -d $dir || ! -w $dir ]]; then
  echo "snapshot-machine.sh: cannot write into $dir (no such directory, or not writable)" >&2
  exit 2
fi
tmp=$(mktemp "$dir/.snapshot.XXXXXX")
trap 'rm -f "$tmp"' EXIT
trap 'exit 130' INT TERM

# The text on standard input as a JSON string (one line: json_text) or an array of its lines
# (json_lines; pciesim's JSON reader takes no control characters in strings, line breaks
# included): backslashes and quotes escaped, a tab (lspci -vvv indents with them) as 8 spaces,
# other control characters dropped.
json_escaped() {
  sed -e 's/\t/        /g' | tr -d '\000-\010\013\014\016-\037\r' |
    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'
}
json_text() {
  json_escaped | awk 'BEGIN { printf "\"" } NR > 1 { printf " " } { printf "%s", $0 } END { printf "\"" }'
}
json_lines() {
  json_escaped | awk 'BEGIN { printf "[" } NR > 1 { printf ", " } { printf "\"%s\"", $0 } END { printf "]" }'
}

missing=()
# "NAME": {"command": ..., "exit_code": N, "output": "..."} for a command that exists.
command_entry() {
  local name=$1
  shift
  command -v "$1" >/dev/null 2>&1 || return 1
  local out code=0
  out=$("$@" 2>&1) || code=$?
  printf '    "%s": {"command": %s, "exit_code": %d, "output": %s}' "$name" \
    "$(printf '%s' "$*" | json_text)" "$code" "$(printf '%s\n' "$out" | json_lines)"
}

# `"NAME": "text"` from the first of FILES, after a comma unless it is the entry's first field
# (`first` is function_entry's); nothing when that file does not read (an unmatched glob, say):
# the later ones are not tried, as sysfs gives a port or net device one such file.
first_file_field() {
  local name=$1 file value
  shift
  for file in "$@"; do
    value=$(cat -- "$file" 2>/dev/null) || return 0
    ((first)) || printf ', '
    first=0
    printf '"%s": %s' "$name" "$(printf '%s' "$value" | json_text)"
    return 0
  done
}

# One PCI function's sysfs attributes that exist, as "name": "value" pairs.
function_entry() {
  local path=$1 first=1 attribute
  printf '    "%s": {' "$(basename -- "$path")"
  for attribute in class vendor device subsystem_vendor subsystem_device revision numa_node \
    current_link_speed current_link_width max_link_speed max_link_width resource \
    local_cpulist driver_override; do
    [[ -r $path/$attribute ]] || continue
    local value
    value=$(cat -- "$path/$attribute" 2>/dev/null) || continue
    ((first)) || printf ', '
    first=0
    # "resource" has a line per BAR: an array of lines; the others are one line.
    if [[ $attribute == resource ]]; then
      printf '"%s": %s' "$attribute" "$(printf '%s\n' "$value" | json_lines)"
    else
      printf '"%s": %s' "$attribute" "$(printf '%s' "$value" | json_text)"
    fi
  done
  # A network function's port: the RDMA port's rate, else the net device's speed (Mb/s); the
  # RDMA port's link layer (its packets' framing) and the net device's MTU (RoCE's path MTU).
  first_file_field infiniband_rate "$path"/infiniband/*/ports/1/rate
  first_file_field net_speed "$path"/net/*/speed
  first_file_field infiniband_link_layer "$path"/infiniband/*/ports/1/link_layer
  first_file_field net_mtu "$path"/net/*/mtu
  if [[ -L $path/driver ]]; then
    ((first)) || printf ', '
    first=0
    printf '"driver": %s' "$(basename -- "$(readlink -- "$path/driver")" | json_text)"
  fi
  if [[ -L $path/iommu_group ]]; then
    ((first)) || printf ', '
    first=0
    printf '"iommu_group": %s' "$(basename -- "$(readlink -- "$path/iommu_group")" | json_text)"
  fi
  # Where the function hangs in the PCI tree (/sys/devices/pci0000:00/0000:00:01.1/...): its
  # parents, for when lspci is not installed.
  if [[ -L $path ]]; then
    ((first)) || printf ', '
    printf '"sysfs_path": %s' "$(readlink -- "$path" | sed 's|^\(\.\./\)*||' | json_text)"
  fi
  printf '}'
}

{
  printf '{\n  "format": "pciesim-snapshot",\n  "version": 1,\n'
  printf '  "host": %s,\n' "$(uname -n | json_text)"
  printf '  "kernel": %s,\n' "$(uname -r | json_text)"
  printf '  "cmdline": %s,\n' "$(json_text 2>/dev/null <"$proc/cmdline")"
  printf '  "cpu_model": %s,\n' \
    "$(awk -F': ' '/^model name/ { print $2; exit }' "$proc/cpuinfo" 2>/dev/null | json_text)"
  printf '  "sockets": %s,\n' \
    "$(awk -F': ' '/^physical id/ { ids[$2] = 1 } END { n = 0; for (i in ids) n++; print n }' \
      "$proc/cpuinfo" 2>/dev/null || echo 0)"
  printf '  "iommu": {"devices": ['
  first=1
  for i in "$sysfs"/class/iommu/*; do
    [[ -e $i ]] || continue
    ((first)) || printf ', '
    first=0
    printf '%s' "$(basename -- "$i" | json_text)"
  done
  printf '], "groups": %s' "$(find "$sysfs/kernel/iommu_groups" -mindepth 1 -maxdepth 1 \
    2>/dev/null | wc -l)"
  # The domain type of the first group: "identity" (passthrough) or "DMA"/"DMA-FQ" (translated).
  for g in "$sysfs"/kernel/iommu_groups/*/type; do
    [[ -r $g ]] && printf ', "default_domain": %s' "$(json_text <"$g")"
    break
  done
  printf '},\n'
  printf '  "commands": {\n'
  entries=()
  for spec in "lspci_tree|lspci -tvnn" "lspci_verbose|lspci -vvvnn" "lspci_numeric|lspci -nnD" \
    "lscpu|lscpu" "nvidia_smi_topo|nvidia-smi topo -m"; do
    name=${spec%%|*}
    read -r -a argv <<<"${spec#*|}"
    if entry=$(command_entry "$name" "${argv[@]}"); then
      entries+=("$entry")
    else
      missing+=("${argv[0]}")
    fi
  done
  for ((k = 0; k < ${#entries[@]}; ++k)); do
    printf '%s' "${entries[k]}"
    ((k + 1 < ${#entries[@]})) && printf ','
    printf '\n'
  done
  printf '  },\n  "pci_functions": {\n'
  functions=("$sysfs"/bus/pci/devices/*)
  count=0
  for f in "${functions[@]}"; do
    [[ -e $f ]] || continue
    ((count)) && printf ',\n'
    function_entry "$f"
    count=$((count + 1))
  done
  printf '\n  },\n  "missing": ['
  # Sorted, once each: what to install for a fuller snapshot.
  first=1
  while read -r tool; do
    [[ -n $tool ]] || continue
    ((first)) || printf ', '
    first=0
    printf '%s' "$(printf '%s' "$tool" | json_text)"
  done < <(printf '%s\n' "${missing[@]+"${missing[@]}"}" | sort -u)
  printf ']\n}\n'
} >"$tmp"

mv -f -- "$tmp" "$output"
trap - EXIT
echo "snapshot-machine.sh: wrote $output ($count PCI functions)" >&2
if ((${#missing[@]})); then
  echo "snapshot-machine.sh: not found (install for a fuller snapshot):" \
    "$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')" >&2
fi
if [[ $(id -u) != 0 ]]; then
  echo "snapshot-machine.sh: not root: lspci could not read the capabilities (ACS, ATS, MPS);" \
    "run it with sudo for those" >&2
fi
