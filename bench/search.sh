#!/usr/bin/env bash
# Search against a grid (docs/performance.md, "Search against a grid"): runs
# one space as a grid and as random, TPE, random+ASHA, TPE+ASHA and
# TPE+Hyperband searches of
# the same budget, over several search seeds, with `lrtune study run`, and
# tables the best validation accuracy, the test accuracy there, the
# trial-epochs and the wall time of each (bench/search_table.py).
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/search.sh [--data DIR] [--binary PATH] [--train-subset N] [--val-size N]
                       [--epochs N] [--trials N] [--asha-trials N] [--asha-min-epochs N]
                       [--asha-eta N] [--grid-points K] [--startup-trials N]
                       [--jobs N] [--seeds LIST] [--methods LIST] [--vary-train-seed]
                       [--out DIR] [--quick]

One space, six ways, each its own `lrtune study run FILE --out DIR --jobs N`:

  grid         K x K x K points (3 x 3 x 3 = 27 by default) at the centres of
               K equal cells of each range, on the log scale for lr and
               weight_decay: lr 0.00282 0.0224 0.178, momentum 0.165 0.495
               0.825, weight_decay 3.16e-05 0.000316 0.00316
  random       [search] sampler = "random", pruner = "none"
  tpe          sampler = "tpe" (--startup-trials random trials first), pruner = "none"
  random+asha  sampler = "random", pruner = "asha" (rungs at 1, 3, 9 epochs;
               --asha-min-epochs moves the first rung)
  tpe+asha     sampler = "tpe", pruner = "asha"
  tpe+hyperband  sampler = "tpe", pruner = "hyperband" (brackets with first
               rungs at 1, 3, 9 epochs; --asha-min-epochs and --asha-eta set
               its r and eta too, --asha-trials its budget)

The space: lr log-uniform [0.001, 0.5], momentum uniform [0, 0.99],
weight_decay log-uniform [1e-5, 0.01]. The searches get as many trials as the
grid has points. Base configuration: batch_size 128, augment flipcrop,
constant schedule, seed 1. The grid does not depend on the search seed, so it
runs once; each search runs once per seed. Methods are interleaved per seed,
in an order rotated from seed to seed, so that machine drift spreads over
them. With --vary-train-seed the training seed ([base] seed) is the search
seed, and the grid runs once per seed too.

Options:
  --data DIR         CIFAR-10 folder (default ../shared/data/cifar-10-batches-bin
                     beside the repository)
  --binary PATH      lrtune (default build/lrtune of the repository)
  --train-subset N   training images (default 20000)
  --val-size N       validation images (default 2000)
  --epochs N         epochs per trial (default 9)
  --trials N         each search's budget (default: the grid's points, 27)
  --asha-trials N    the budget of the +asha searches (default: --trials); ASHA
                     stops most trials early, so a larger budget can still spend
                     fewer trial-epochs than the grid
  --asha-min-epochs N  ASHA's first rung, asha_min_epochs (default 1)
  --asha-eta N       ASHA's reduction factor, asha_eta (default 3: rungs at 1, 3, 9
                     epochs, the top third goes on)
  --grid-points K    grid values per key (default 3)
  --startup-trials N TPE's random trials before it models (default 10, lrtune's)
  --jobs N           worker processes per run (default: the number of cores)
  --seeds LIST       comma-separated search seeds (default 1,2,3)
  --methods LIST     comma-separated methods to run (default all six)
  --vary-train-seed  train each seed's runs with that seed (and one grid per seed)
  --out DIR          working folder: study files, results folders, logs, exports
                     and table.md (default: a new temporary folder; on success
                     only table.md and the exports are kept in it, on failure
                     everything; a given DIR keeps everything, about 4 MB of
                     checkpoints per trial, and must hold no earlier results)
  --quick            a smoke test: --train-subset 2000 --val-size 500 --epochs 3
                     --trials 10 --grid-points 2 --startup-trials 5 unless given
                     (about 4 minutes for one seed on 2 cores)
  --help             this text

Writes the Markdown table to standard output and OUT/table.md, progress to
standard error. Exits 1 when a run fails (its log is named), 2 for a bad
option. The full benchmark (3 seeds, defaults) trains about 2,200
trial-epochs of 20,000 images: about 1.5-2 hours on 2 idle cores.
EOF
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data=$root/../shared/data/cifar-10-batches-bin
binary=$root/build/lrtune
train_subset='' val_size='' epochs='' trials='' grid_points='' startup_trials=''
asha_trials='' asha_min_epochs=1 asha_eta=3
jobs=$(nproc)
seeds=1,2,3
methods=grid,random,tpe,random+asha,tpe+asha,tpe+hyperband
vary_train_seed=0
out=
quick=0

die() { echo "search.sh: $*" >&2; exit 2; }
while (($#)); do
  case $1 in
    --data) data=${2:?--data needs a folder}; shift 2 ;;
    --binary) binary=${2:?--binary needs a path}; shift 2 ;;
    --train-subset) train_subset=${2:?--train-subset needs a number}; shift 2 ;;
    --val-size) val_size=${2:?--val-size needs a number}; shift 2 ;;
    --epochs) epochs=${2:?--epochs needs a number}; shift 2 ;;
    --trials) trials=${2:?--trials needs a number}; shift 2 ;;
    --asha-trials) asha_trials=${2:?--asha-trials needs a number}; shift 2 ;;
    --asha-min-epochs) asha_min_epochs=${2:?--asha-min-epochs needs a number}; shift 2 ;;
    --asha-eta) asha_eta=${2:?--asha-eta needs a number}; shift 2 ;;
    --grid-points) grid_points=${2:?--grid-points needs a number}; shift 2 ;;
    --startup-trials) startup_trials=${2:?--startup-trials needs a number}; shift 2 ;;
    --jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
    --seeds) seeds=${2:?--seeds needs a list}; shift 2 ;;
    --methods) methods=${2:?--methods needs a list}; shift 2 ;;
    --vary-train-seed) vary_train_seed=1; shift ;;
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    --quick) quick=1; shift ;;
    --help | -h) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
if ((quick)); then
  : "${train_subset:=2000}" "${val_size:=500}" "${epochs:=3}" "${trials:=10}" "${grid_points:=2}"
  : "${startup_trials:=5}"
fi
: "${train_subset:=20000}" "${val_size:=2000}" "${epochs:=9}" "${grid_points:=3}" "${startup_trials:=10}"
for v in train_subset val_size epochs grid_points startup_trials jobs asha_min_epochs asha_eta; do
  [[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] || die "--${v//_/-}: expected a whole number >= 1, got '${!v}'"
done
: "${trials:=$((grid_points ** 3))}"
[[ $trials =~ ^[0-9]+$ && $trials -ge 1 ]] || die "--trials: expected a whole number >= 1, got '$trials'"
: "${asha_trials:=$trials}"
[[ $asha_trials =~ ^[0-9]+$ && $asha_trials -ge 1 ]] ||
  die "--asha-trials: expected a whole number >= 1, got '$asha_trials'"
[[ $seeds =~ ^[0-9]+(,[0-9]+)*$ ]] || die "--seeds: expected comma-separated whole numbers, got '$seeds'"
IFS=, read -r -a seed_list <<<"$seeds"
IFS=, read -r -a method_list <<<"$methods"
for m in "${method_list[@]}"; do
  case $m in grid | random | tpe | random+asha | tpe+asha) ;;
    *) die "--methods: unknown method '$m' (grid, random, tpe, random+asha, tpe+asha)" ;;
  esac
done
if [[ ",$methods," == *,tpe,* ]] && ((trials < startup_trials)); then
  die "--trials: TPE needs at least its $startup_trials random start-up trials, got $trials"
fi
if [[ ",$methods," == *,tpe+asha,* || ",$methods," == *,tpe+hyperband,* ]] &&
  ((asha_trials < startup_trials)); then
  die "--asha-trials: TPE needs at least its $startup_trials random start-up trials, got $asha_trials"
fi
[[ -x $binary ]] || die "$binary: no such executable (build it, or pass --binary)"
[[ -f $data/data_batch_1.bin ]] || die "$data: no CIFAR-10 binary files (pass --data DIR)"
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
data=$(cd "$data" && pwd)
python=python3
[[ -x /usr/bin/python3 ]] && python=/usr/bin/python3

temp=0
if [[ -z $out ]]; then
  out=$(mktemp -d "${TMPDIR:-/tmp}/lrtune-search-XXXXXX")
  temp=1
else
  mkdir -p "$out"
  out=$(cd "$out" && pwd)
  if [[ -d $out/results ]] && [[ -n $(ls -A "$out/results") ]]; then
    die "$out/results holds earlier runs, which lrtune would continue: choose a new --out"
  fi
fi
mkdir -p "$out/studies" "$out/results" "$out/logs" "$out/exports"
manifest=$out/runs.tsv
: >"$manifest"

say() { echo "search: $*" >&2; }
finished=0
cleanup() {
  if ((finished && temp)); then
    rm -rf "$out/studies" "$out/results" "$out/logs"
    say "table and exports in $out"
  elif ((!finished)); then
    say "working folder kept: $out"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- study files --------------------------------------------------------------

# The K values of the grid for one key: centres of K equal cells of [lo, hi],
# on the log scale when `log` is 1.
grid_values() {
  awk -v lo="$1" -v hi="$2" -v log_scale="$3" -v k="$grid_points" 'BEGIN {
    if (log_scale) { lo = log(lo); hi = log(hi) }
    for (i = 0; i < k; i++) {
      x = lo + (i + 0.5) * (hi - lo) / k
      printf "%s%.3g", (i ? ", " : ""), (log_scale ? exp(x) : x)
    }
  }'
}

# The trials a method's run has: the grid's points, or the search's budget.
budget_of() {
  case $1 in
    grid) echo $((grid_points ** 3)) ;;
    *+asha | *+hyperband) echo "$asha_trials" ;;
    *) echo "$trials" ;;
  esac
}

# study_file METHOD SEED: writes the study file of one run, prints its path.
study_file() {
  local method=$1 seed=$2 train_seed=1 name file
  ((vary_train_seed)) && train_seed=$2
  name=${method/+/-}-s$seed
  file=$out/studies/$name.toml
  {
    echo "name = \"search-bench-$name\""
    echo "description = \"bench/search.sh: $method, search seed $seed\""
    echo
    echo "[base]"
    echo "train_subset = $train_subset"
    echo "val_size = $val_size"
    echo "epochs = $epochs"
    echo "batch_size = 128"
    echo "augment = \"flipcrop\""
    echo "schedule = \"constant\""
    echo "seed = $train_seed"
    echo
    if [[ $method == grid ]]; then
      echo "[[sweep]]"
      echo "grid = { lr = [$(grid_values 1e-3 0.5 1)], momentum = [$(grid_values 0 0.99 0)]," \
        "weight_decay = [$(grid_values 1e-5 1e-2 1)] }"
    else
      echo "[search]"
      echo "sampler = \"${method%+*}\""
      [[ $method == *+* ]] && echo "pruner = \"${method#*+}\"" || echo "pruner = \"none\""
      echo "trials = $(budget_of "$method")"
      echo "objective = \"val_acc\""
      echo "seed = $seed"
      [[ $method == tpe* ]] && echo "startup_trials = $startup_trials"
      echo "asha_min_epochs = $asha_min_epochs"
      echo "asha_eta = $asha_eta"
      echo "hyperband_min_epochs = $asha_min_epochs"
      echo "hyperband_eta = $asha_eta"
      echo
      echo "[search.space]"
      echo "lr = { log_uniform = [1e-3, 0.5] }"
      echo "momentum = { uniform = [0.0, 0.99] }"
      echo "weight_decay = { log_uniform = [1e-5, 1e-2] }"
    fi
  } >"$file"
  echo "$file"
}

# The runs, interleaved: per seed every method (the grid only with the first
# seed unless --vary-train-seed), the order rotated by one from seed to seed.
runs=()
for i in "${!seed_list[@]}"; do
  seed=${seed_list[$i]}
  these=()
  for m in "${method_list[@]}"; do
    [[ $m == grid && $i -gt 0 && $vary_train_seed -eq 0 ]] && continue
    these+=("$m")
  done
  n=${#these[@]}
  for ((j = 0; j < n; j++)); do runs+=("${these[$(((i + j) % n))]} $seed"); done
done

# Every study file is checked (`--dry-run`) before anything trains.
for r in "${runs[@]}"; do
  read -r method seed <<<"$r"
  file=$(study_file "$method" "$seed")
  "$binary" study run "$file" --dry-run >"$out/logs/dry-run.log" 2>&1 ||
    { say "FAILED: $file is refused:"; cat "$out/logs/dry-run.log" >&2; exit 1; }
done

# --- the runs -------------------------------------------------------------------

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u +%Y-%m-%dT%H:%MZ)
t_all=$(date +%s.%N)
k=0
for r in "${runs[@]}"; do
  read -r method seed <<<"$r"
  k=$((k + 1))
  name=${method/+/-}-s$seed
  file=$out/studies/$name.toml
  log=$out/logs/$name.log
  expected=$(budget_of "$method")
  say "run $k/${#runs[@]}: $method, seed $seed ($log)"
  t0=$(date +%s.%N)
  rc=0
  "$binary" study run "$file" --out "$out/results/$name" --jobs "$jobs" --data "$data" >"$log" 2>&1 || rc=$?
  t1=$(date +%s.%N)
  if ((rc != 0)); then
    say "FAILED: $method, seed $seed: lrtune study run exited $rc; the end of $log:"
    tail -n 20 "$log" >&2
    exit 1
  fi
  "$binary" study export "$out/results/$name" --format csv --out "$out/exports/$name.csv" \
    >>"$log" 2>&1 || { say "FAILED: export of $method, seed $seed (see $log)"; exit 1; }
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  printf '%s\t%s\t%s\t%s\t%s\n' "$method" "$seed" "$out/exports/$name.csv" "$wall" "$expected" >>"$manifest"
  say "  done in $wall s"
done
total=$(awk -v a="$t_all" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')

# --- the table -----------------------------------------------------------------

tables=$("$python" "$root/bench/search_table.py" "$manifest") || { say "FAILED: the table (above)"; exit 1; }
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
train_seed_note="training seed 1 in every run"
((vary_train_seed)) && train_seed_note="training seed = search seed"
{
  echo "## Search against a grid: $started"
  echo
  echo "$train_subset training images, $val_size validation, $epochs epochs, batch 128," \
    "flipcrop, constant lr; space lr log-uniform [0.001, 0.5], momentum uniform [0, 0.99]," \
    "weight_decay log-uniform [1e-5, 0.01]; grid ${grid_points}^3 = $((grid_points ** 3)) points" \
    "(cell centres), searches $trials trials each, ASHA searches $asha_trials (TPE:" \
    "$startup_trials start-up trials; ASHA: min $asha_min_epochs epoch(s), eta $asha_eta); search seeds" \
    "$seeds, $train_seed_note; --jobs $jobs; git $commit; $(nproc) cores; load average" \
    "before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg); $total s in all."
  echo
  echo "$tables"
  echo
  echo "Best val acc: the highest validation accuracy of any epoch of any trial (pruned" \
    "ones included); test acc there: that trial's test accuracy at that epoch (chosen by" \
    "validation, never by test). Trial-epochs: rows of \`lrtune study export\`, the epochs" \
    "trained. Wall s: \`lrtune study run\` from start to end. The spread over seeds is the" \
    "samplers' (and, with --jobs above 1, the order in which trials end, which TPE and ASHA" \
    "see), not training noise, unless the training seed varies too."
} >"$out/table.md"
cat "$out/table.md"
finished=1
