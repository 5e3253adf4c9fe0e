#!/usr/bin/env bash
# Builds the whole test suite under AddressSanitizer and UndefinedBehaviorSanitizer
# (gcc, -O1, in build-asan/) and runs it; any report fails the run. Outside CI: the
# build takes about as long as a normal one, the tests run about as fast (see
# docs/fuzzing.md, "Sanitizers").
# Arguments go to ctest (e.g. -R Store to run a part).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${LRTUNE_ASAN_BUILD:-build-asan}

scripts/setup.sh >/dev/null
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLRTUNE_BUILD_BENCH=OFF \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build "$build" -j"$(nproc)"

# LibTorch is not instrumented: its allocations at exit are not ours to chase
# (detect_leaks=0). Every sanitizer report aborts its test, so ctest fails.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1:symbolize=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$build" --output-on-failure --timeout 1200 -j"$(nproc)" "$@"
echo "sanitize: no AddressSanitizer or UndefinedBehaviorSanitizer report"
