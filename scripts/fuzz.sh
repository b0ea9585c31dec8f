#!/usr/bin/env bash
# Fuzzes the input loaders with libFuzzer under ASan+UBSan (clang). Usage:
#   scripts/fuzz.sh [seconds [build dir]]   default 60 s in build-fuzz (configured here); the
#   corpus grows in <build dir>/corpus. Another build dir must already be configured with
#   PCIESIM_FUZZ=ON and clang, as the asan preset's build-asan is (CI fuzzes there, so the
#   sanitizer build serves both).
# Seeds: every shipped topology, scenario and sweep, the bad-input corpus, the machine dumps of
# tests/data/import, and tests/fuzz/seeds
# (sweeps with inline bases, which reach point expansion without files). Exits non-zero on a
# finding (the crashing input is saved as build-fuzz/crash-*).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
build="${2:-build-fuzz}"
if [ "$build" = build-fuzz ]; then
  if ! command -v clang++ >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends clang libclang-rt-14-dev
  fi
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPCIESIM_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
fi
cmake --build "$build" --target fuzz_inputs
mkdir -p "$build/corpus" "$build/seeds"
cp topologies/*.json scenarios/*.json scenarios/sweeps/*.json tests/fuzz/seeds/*.json "$build/seeds/"
find tests/bad_inputs -maxdepth 1 -type f \( -name '*.json' -o -name '*.txt' \) -exec cp {} "$build/seeds/" \;
cp tests/data/import/*.txt tests/data/import/*.xml "$build/seeds/"
cd "$build"
ASAN_OPTIONS=detect_leaks=1 ./fuzz_inputs corpus seeds -max_total_time="$seconds" -max_len=65536 \
  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 2>&1 | tail -25
