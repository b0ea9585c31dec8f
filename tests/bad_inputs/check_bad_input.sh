#!/usr/bin/env bash
# Checks one bad input: `pciesim validate` must print exactly one line
# "<file>:<pointer>: <problem…>" containing the expected text, nothing on stdout, and exit
# with the expected code; for scenarios, `pciesim run --out DIR` must fail the same way and
# leave DIR uncreated (nothing half-written).
# Usage: check_bad_input.sh PCIESIM FILE EXIT_CODE POINTER SUBSTRING
set -u
pciesim=$1 file=$2 code=$3 pointer=$4 substring=$5
cd "$(dirname "$0")"
fail() { echo "FAIL $file: $*"; exit 1; }
out=$("$pciesim" validate "$file" 2>/tmp/bad-input-err.$$)
rc=$?
err=$(cat /tmp/bad-input-err.$$); rm -f /tmp/bad-input-err.$$
[ "$rc" = "$code" ] || fail "exit code $rc, expected $code (stderr: $err)"
[ -z "$out" ] || fail "stdout not empty: $out"
[ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || fail "stderr has more than one line: $err"
case "$err" in "$file:$pointer: "*) ;; *) fail "stderr does not start with '$file:$pointer: ': $err" ;; esac
case "$err" in *"$substring"*) ;; *) fail "stderr lacks '$substring': $err" ;; esac
if grep -q '"transfers"' "$file" 2>/dev/null; then
  dir=$(mktemp -u /tmp/pciesim-bad-out-XXXXXX)
  "$pciesim" run "$file" --out "$dir" >/dev/null 2>&1
  rc=$?
  [ "$rc" = "$code" ] || fail "run exited $rc, expected $code"
  [ ! -e "$dir" ] || { rm -rf "$dir"; fail "run created $dir despite bad input"; }
fi
echo "ok $file"
