#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite (what CI runs). Fails when a
# test fails, and when a test skipped that may not skip on a machine set up
# by scripts/setup.sh (only GPU cases, and real-data cases without
# ../shared/data, may: scripts/check_skips.py).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/build.sh
status=0
ctest --test-dir build --output-on-failure --timeout 600 --output-junit ctest-junit.xml \
  | tee build/ctest.log || status=$?
python3 scripts/check_skips.py build/ctest-junit.xml || status=1
# ctest's closing line last, as test runners end.
grep -E '^[0-9]+% tests passed' build/ctest.log | tail -n 1 || true
exit "$status"
