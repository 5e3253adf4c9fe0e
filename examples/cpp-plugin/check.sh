#!/usr/bin/env bash
# The example as a user builds it: lrtune installed to a temporary prefix
# (`cmake --install`), this folder configured and built against it with
# find_package(lrtune), then the program's own study run (its workers are
# the program itself) and its report. Checks that every trial finished, that
# the network learned, and that the report names the program's kinds. CTest
# runs it (Examples.CppPluginStudy); usage: check.sh LRTUNE_BUILD_DIR
set -euo pipefail
build=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$here" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/configure.log" 2>&1 ||
  { tail -30 "$work/configure.log"; exit 1; }
cmake --build "$work/build" >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 1; }
mytool=$work/build/mytool

cd "$work"
# The listing whole first: `mytool kinds | grep -q` under pipefail fails when
# grep stops reading early and the writer gets SIGPIPE.
kinds=$("$mytool" kinds)
grep -q "tiny_cnn  mytool:" <<<"$kinds" || { echo "mytool kinds does not list tiny_cnn"; exit 1; }
grep -q "stripes  mytool:" <<<"$kinds" || { echo "mytool kinds does not list stripes"; exit 1; }
"$mytool" study run "$here/study.toml" --out out --jobs 2 --threads-per-job 1 >run.log 2>&1 ||
  { tail -20 run.log; exit 1; }
"$mytool" report out --out report >report.log 2>&1 || { tail -20 report.log; exit 1; }
grep -q "stripes" report/index.html || { echo "the report does not name the data set"; exit 1; }
"$mytool" study export out --format csv --out trials.csv
/usr/bin/python3 - trials.csv <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
trials = {r["trial_id"] for r in rows}
done = {r["trial_id"] for r in rows if r["status"] == "done"}
best = max(float(r["val_acc"]) for r in rows)
print(f"{len(trials)} trials, {len(done)} done; best val_acc {best:.3f}")
assert len(trials) == 4 and done == trials, "every trial of the 2 x 2 grid finishes"
assert best > 0.9, "the program's network learns its data set (chance is 1/3)"
PY
