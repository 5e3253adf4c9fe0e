#!/usr/bin/env bash
# One command for docs/performance.md: installs what the benchmark needs, builds
# lrtune_bench (Release, in build-bench/) and runs it; arguments go to lrtune_bench
# (e.g. --steps 40 --batches 8 --repeats 3 for a short run, --profile for operator
# tables). lrtune_bench interleaves its C++ runs with the Python reference.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${LRTUNE_BENCH_BUILD:-$root/build-bench}

"$root/scripts/setup.sh" --bench >/dev/null
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target lrtune_bench
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
exec "$build/bench/lrtune_bench" "$@"
