#!/usr/bin/env bash
# The main job: sets up, builds, fetches CIFAR-10 if it is missing, runs the
# quick study (the reference's questions in miniature) and writes its report.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/build.sh
data="${LRTUNE_DATA:-data/cifar-10-batches-bin}"
if [[ ! -f "$data/data_batch_1.bin" ]]; then
  build/lrtune data download --data "$data"
fi
export LRTUNE_DATA="$data"
build/lrtune study run studies/quick.toml --jobs "$(nproc)" --out studies-out/quick
build/lrtune study status studies-out/quick
build/lrtune report studies-out/quick --out studies-out/quick/report
echo
echo "Results: studies-out/quick/ (results.sqlite, trials/)"
echo "Report:  studies-out/quick/report/index.html and report.md"
