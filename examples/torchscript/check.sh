#!/usr/bin/env bash
# The example, end to end, small: saves the network with Python's torch, runs
# the study file's whole search with two epochs per trial on 1,000 images, and
# checks that every trial finished and that the network learned (the best
# validation accuracy is far above chance, 0.1). CTest runs it
# (Examples.TorchScriptStudy); usage: check.sh LRTUNE_BINARY
set -euo pipefail
lrtune=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
/usr/bin/python3 "$here/make_net.py" net.pt
"$lrtune" study run "$here/study.toml" --out out --epochs 2 --train-subset 1000 --jobs 1 >run.log 2>&1 ||
  { tail -20 run.log; exit 1; }
"$lrtune" study export out --format csv --out trials.csv
/usr/bin/python3 - trials.csv <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
trials = {r["trial_id"] for r in rows}
finished = {r["trial_id"] for r in rows if r["status"] in ("done", "pruned")}
best = max(float(r["val_acc"]) for r in rows)
print(f"{len(trials)} trials, {len(finished)} finished; best val_acc {best:.3f}")
assert len(trials) == 12, "the search draws 12 trials"
assert finished == trials, "every trial finishes"
assert best > 0.5, "the network learns (chance is 0.1)"
PY
