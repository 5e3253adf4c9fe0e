#!/usr/bin/env bash
# Runs one libFuzzer target of fuzz/ for a while, outside CI:
#   scripts/fuzz.sh TARGET SECONDS     scripts/fuzz.sh --list
# Builds build-fuzz/ with clang-14 (scripts/setup.sh --fuzz installs it).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
# The targets, as fuzz/CMakeLists.txt lists them.
read -r -a targets <<<"$(sed -n 's/^set(LRTUNE_FUZZ_TARGETS \(.*\))$/\1/p' fuzz/CMakeLists.txt)"

usage() {
  echo "usage: scripts/fuzz.sh TARGET SECONDS | scripts/fuzz.sh --list   (targets: ${targets[*]})" >&2
  exit 2
}
if [[ $# -eq 1 && $1 == --list ]]; then
  printf '%s\n' "${targets[@]}"
  exit 0
fi
[[ $# -eq 2 && $2 =~ ^[1-9][0-9]*$ ]] || usage
target=$1 seconds=$2
[[ " ${targets[*]} " == *" $target "* ]] || usage

build=build-fuzz
if [[ ! -f $build/CMakeCache.txt ]]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -G Ninja -DLRTUNE_FUZZ=ON \
    -DLRTUNE_BUILD_TESTS=OFF -DLRTUNE_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Release \
    "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -DNDEBUG"
fi
cmake --build "$build" --target "${target}_fuzz" -j"${LRTUNE_FUZZ_JOBS:-$(nproc)}"

corpus=$build/corpus/$target found=$build/found/$target log=$build/logs/$target.log
mkdir -p "$corpus" "$found" "$build/logs"
touch "$build/logs/$target.start"
options=(-max_total_time="$seconds" -timeout=10 -print_final_stats=1 -artifact_prefix="$found/")
[[ -f fuzz/$target.dict ]] && options+=(-dict="fuzz/$target.dict")
# LibTorch 1.13's archive reader, not lrtune, is what these would report:
# its unpickler reserves a string's declared length (up to 4 GiB) before reading
# it (the short read that follows is a DamagedCheckpointError), and its zip
# reader leaks a few kB when an archive is refused.
# The tensors target reads with the same unpickler (torch::pickle_load).
if [[ $target == checkpoint || $target == tensors ]]; then
  options+=(-malloc_limit_mb=4500 -rss_limit_mb=5000 -detect_leaks=0)
  export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0  # nor at exit
fi
# New inputs go to the first folder (the working corpus); the kept ones are only read.
status=0 started=$SECONDS
"$build/fuzz/${target}_fuzz" "${options[@]}" "$corpus" "fuzz/regressions/$target" 2>&1 | tee "$log" \
  || status=$?

echo
echo "fuzz.sh $target: $((SECONDS - started)) s of $seconds, $(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1) executions, $(find "$corpus" -type f | wc -l) inputs in $corpus (log: $log)"
new=$(find "$found" -type f -newer "$build/logs/$target.start")
if [[ -n $new ]]; then
  echo "Findings:"
  echo "$new"
  echo "Replay one: $build/fuzz/${target}_fuzz FILE. After fixing, copy it into fuzz/regressions/$target/"
  echo "(named for what it found), so the test suite replays it."
  exit 1
fi
exit "$status"
