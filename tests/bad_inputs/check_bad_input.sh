#!/usr/bin/env bash
# Checks one case of the bad-input corpus (one line of expected.tsv).
#
#   check_bad_input.sh PCIESIM FILE EXIT_CODE POINTER SUBSTRING
#
# From this directory (so that scenarios find support/ by their relative paths),
# `PCIESIM validate FILE` must
#   - exit with EXIT_CODE,
#   - print nothing on stdout,
#   - print exactly one newline-terminated line on stderr,
#   - start that line with "FILE:POINTER: " exactly, and
#   - contain SUBSTRING in it.
# For a scenario case (file name starting with "scen-"), `PCIESIM run FILE --out DIR`, with DIR
# a fresh path that does not exist yet, must also exit with EXIT_CODE, print nothing on stdout,
# print the same line on stderr, and leave DIR uncreated (nothing half-written). The same holds
# for `PCIESIM sweep FILE --out DIR` of a sweep case (file name starting with "sweep-").
set -u

if [ $# -ne 5 ]; then
  echo "usage: $0 PCIESIM FILE EXIT_CODE POINTER SUBSTRING" >&2
  exit 2
fi
pciesim=$1 file=$2 code=$3 pointer=$4 substring=$5

fail() {
  echo "FAIL $file: $*"
  exit 1
}

cd "$(dirname "$0")" || fail "cannot enter $(dirname "$0")"
[ -f "$file" ] || fail "no such case file in $(pwd)"
[ -x "$pciesim" ] || fail "not an executable: $pciesim"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pciesim-bad-input.XXXXXX") || fail "mktemp failed"
trap 'rm -rf "$tmp"' EXIT

# check_output LABEL RC STDOUT_FILE STDERR_FILE: the common assertions on one invocation.
check_output() {
  local label=$1 rc=$2 out=$3 err=$4 line
  line=$(cat "$err")
  [ "$rc" = "$code" ] || fail "$label exited $rc, expected $code; stderr: $line"
  [ ! -s "$out" ] || fail "$label wrote to stdout: $(head -c 500 "$out")"
  [ -s "$err" ] || fail "$label wrote nothing to stderr"
  if [ "$(wc -l <"$err")" -ne 1 ] || [ -n "$(tail -c 1 "$err")" ]; then
    fail "$label did not write exactly one line to stderr: $(head -c 2000 "$err")"
  fi
  [[ "$line" == "$file:$pointer: "* ]] ||
    fail "$label: stderr does not start with '$file:$pointer: ': $line"
  [[ "$line" == *"$substring"* ]] || fail "$label: stderr lacks '$substring': $line"
}

"$pciesim" validate "$file" >"$tmp/validate.out" 2>"$tmp/validate.err"
check_output validate $? "$tmp/validate.out" "$tmp/validate.err"

case "$file" in
scen-*)
  out_dir="$tmp/results" # does not exist: run must not create it
  "$pciesim" run "$file" --out "$out_dir" >"$tmp/run.out" 2>"$tmp/run.err"
  rc=$?
  [ ! -e "$out_dir" ] || fail "run created $out_dir despite the bad input: $(ls -A "$out_dir")"
  check_output run "$rc" "$tmp/run.out" "$tmp/run.err"
  cmp -s "$tmp/validate.err" "$tmp/run.err" ||
    fail "run reported differently from validate: $(cat "$tmp/run.err")"
  ;;
sweep-*)
  out_dir="$tmp/results" # does not exist: sweep must not create it
  "$pciesim" sweep "$file" --out "$out_dir" >"$tmp/sweep.out" 2>"$tmp/sweep.err"
  rc=$?
  [ ! -e "$out_dir" ] || fail "sweep created $out_dir despite the bad input: $(ls -A "$out_dir")"
  check_output sweep "$rc" "$tmp/sweep.out" "$tmp/sweep.err"
  cmp -s "$tmp/validate.err" "$tmp/sweep.err" ||
    fail "sweep reported differently from validate: $(cat "$tmp/sweep.err")"
  ;;
esac

echo "ok $file: $(cat "$tmp/validate.err")"
