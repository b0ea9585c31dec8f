#!/usr/bin/env bash
# Fuzzes the input loaders with libFuzzer under ASan+UBSan (clang). Usage:
#   scripts/fuzz.sh [seconds]      default 60; the corpus grows in build-fuzz/corpus
# Seeds: every shipped topology, scenario and sweep, the bad-input corpus, and tests/fuzz/seeds
# (sweeps with inline bases, which reach point expansion without files). Exits non-zero on a
# finding (the crashing input is saved as build-fuzz/crash-*).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
if ! command -v clang++ >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends clang libclang-rt-14-dev
fi
cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPCIESIM_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build build-fuzz --target fuzz_inputs
mkdir -p build-fuzz/corpus build-fuzz/seeds
cp topologies/*.json scenarios/*.json scenarios/sweeps/*.json tests/fuzz/seeds/*.json build-fuzz/seeds/
find tests/bad_inputs -maxdepth 1 -type f \( -name '*.json' -o -name '*.txt' \) -exec cp {} build-fuzz/seeds/ \;
cd build-fuzz
ASAN_OPTIONS=detect_leaks=1 ./fuzz_inputs corpus seeds -max_total_time="$seconds" -max_len=65536 \
  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 2>&1 | tail -25
