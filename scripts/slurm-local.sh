#!/usr/bin/env bash
# A single-node Slurm cluster on this machine (loopback, no munge), for the Slurm test
# (`ctest -R '^slurm'`) and for trying `pciesim sweep --slurm`. Needs root and
#   apt-get install -y --no-install-recommends slurmctld slurmd slurm-client
#
#   eval "$(scripts/slurm-local.sh start)"   # starts slurmctld and slurmd, prints export SLURM_CONF=...
#   scripts/slurm-local.sh stop              # stops the two daemons it started
#
# Everything lives in $PCIESIM_SLURM_DIR (default /tmp/pciesim-slurm); /etc/slurm is not touched.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${PCIESIM_SLURM_DIR:-/tmp/pciesim-slurm}
export SLURM_CONF=$dir/slurm.conf

start() {
  for tool in slurmctld slurmd sinfo; do
    command -v "$tool" >/dev/null || {
      echo "slurm-local: $tool is not installed (apt-get install -y --no-install-recommends" \
        "slurmctld slurmd slurm-client)" >&2
      exit 1
    }
  done
  mkdir -p "$dir/state" "$dir/spool" "$dir/log"
  sed -e "s|@HOST@|$(hostname -s)|g" -e "s|@CPUS@|$(nproc)|g" -e "s|@DIR@|$dir|g" \
    "$root/ci/slurm/slurm.conf" >"$SLURM_CONF"
  slurmctld -i # both daemonise; -i: ignore state left by an earlier run
  slurmd
  # The node registers within a few seconds; wait until it takes jobs.
  for _ in $(seq 60); do
    if sinfo -h -o %t 2>/dev/null | grep -qx idle; then
      echo "export SLURM_CONF=$SLURM_CONF"
      return 0
    fi
    sleep 1
  done
  echo "slurm-local: the node did not come up; logs in $dir/log" >&2
  sinfo >&2 || true
  exit 1
}

stop() {
  for daemon in slurmd slurmctld; do
    pidfile=$dir/$daemon.pid
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 20); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    rm -f "$pidfile"
  done
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
