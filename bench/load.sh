#!/usr/bin/env bash
# Training speed on a busy machine (docs/performance.md): installs what the
# benchmark needs, builds lrtune_load_bench (Release, in build-bench/, or
# LRTUNE_BENCH_BUILD) and runs it; arguments go to lrtune_load_bench
# (e.g. --repeats 1 --train-images 2000 for a quick check).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${LRTUNE_BENCH_BUILD:-$root/build-bench}

"$root/scripts/setup.sh" --bench >/dev/null
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" --target lrtune_load_bench
exec "$build/bench/lrtune_load_bench" "$@"
