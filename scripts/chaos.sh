#!/usr/bin/env bash
# Chaos test of study stop/resume: runs a tiny study, SIGKILLs it at random
# moments (four ways), reruns it to completion and compares every exported
# epoch with an uninterrupted run. docs/robustness.md has the figures.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/chaos.sh [--runs N] [--binary PATH] [--work DIR] [--keep] [--seed S]
                        [--modes LIST]

Runs a tiny generated study with `lrtune study run --jobs 2 --threads-per-job 1`,
kills it with SIGKILL, reruns the same command until it completes, exports
every epoch (`lrtune study export --format csv`) and compares the rows with an
uninterrupted reference run: trial id, label, swept keys, epoch, lr, losses and
accuracies must match exactly (timing columns are ignored).

Kill modes (each run N times; a control run without a kill comes first):
  group       the whole process group, at a random moment within the
              reference run's duration
  worker      one worker process only, at a random moment of the training
              (after the k-th checkpoint write, k random, plus a random part
              of an epoch); the study command carries on (or the rerun
              finishes its trial)
  early       the whole group within the first second after the start
  checkpoint  the whole group while a checkpoint is being written: as soon
              as the k-th trials/*/checkpoint.pt.tmp of the run appears (k
              random, at most the reference's number of checkpoint writes);
              a run where it was never seen counts as a missed kill

Options:
  --runs N       runs per mode (default 20)
  --binary PATH  the lrtune binary (default build/lrtune)
  --work DIR     working folder (default: a new temporary folder, removed at
                 the end unless --keep; a given DIR is kept)
  --keep         keep the working folder (data, study folders, logs, exports)
  --seed S       seed of the random kill moments (default: from the clock;
                 printed, so a failure can be reproduced)
  --modes LIST   comma-separated modes to run (default group,worker,early,checkpoint)
  --help         this text

Prints a markdown table (runs, completed, lost, duplicated, extra and
differing rows, missed kills) on standard output and progress on standard
error. Exits 0 when every run completed and no row was lost, duplicated,
extra or different; 1 otherwise; 2 for a bad option. A missed kill (the run
ended before its moment came) is reported but is not a failure.
EOF
}

runs=20
binary=build/lrtune
work=
keep=0
seed=
modes=group,worker,early,checkpoint
max_reruns=5  # reruns after a kill before a run counts as not completed

while (($#)); do
  case $1 in
    --runs) runs=${2:?--runs needs a number}; shift 2 ;;
    --binary) binary=${2:?--binary needs a path}; shift 2 ;;
    --work) work=${2:?--work needs a folder}; keep=1; shift 2 ;;
    --keep) keep=1; shift ;;
    --seed) seed=${2:?--seed needs a number}; shift 2 ;;
    --modes) modes=${2:?--modes needs a list}; shift 2 ;;
    --help | -h) usage; exit 0 ;;
    *) echo "chaos.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $runs =~ ^[0-9]+$ ]] || { echo "chaos.sh: --runs: expected a whole number, got $runs" >&2; exit 2; }
[[ -z $seed || $seed =~ ^[0-9]+$ ]] || { echo "chaos.sh: --seed: expected a whole number, got $seed" >&2; exit 2; }
IFS=, read -r -a mode_list <<<"$modes"
for m in "${mode_list[@]}"; do
  case $m in group | worker | early | checkpoint) ;;
    *) echo "chaos.sh: --modes: unknown mode '$m' (group, worker, early, checkpoint)" >&2; exit 2 ;;
  esac
done
[[ -x $binary ]] || { echo "chaos.sh: $binary: no such executable (build it, or pass --binary)" >&2; exit 2; }
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
python=python3
[[ -x /usr/bin/python3 ]] && python=/usr/bin/python3
: "${seed:=$(($(date +%s) % 1000000))}"

if [[ -z $work ]]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/lrtune-chaos-XXXXXX")
else
  mkdir -p "$work"
  work=$(cd "$work" && pwd)
fi

say() { echo "chaos: $*" >&2; }

live_pgid=  # the process group of the study command now running, if any
cleanup() {
  if [[ -n $live_pgid ]]; then kill -9 -- "-$live_pgid" 2>/dev/null || true; fi
  if ((keep)); then say "working folder kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- data and study --------------------------------------------------------

# Tiny CIFAR-10 binary files (scripts/lib/tiny_cifar.py): each class has its
# own mean colour, plus noise, so the network learns.
make_data() { "$python" "$(dirname "${BASH_SOURCE[0]}")/lib/tiny_cifar.py" "$1" 100 100; }

# 3 trials x 3 epochs, two workers: one worker goes on to a second trial.
# Momentum (optimizer state), a per-step warm-up (schedule state) and
# augmentation (per-epoch random streams) must all survive a resume.
write_study() {
  cat >"$1" <<'EOF'
name = "chaos"
description = "Tiny study for scripts/chaos.sh"

[base]
train_subset = 150
val_size = 100
epochs = 3
batch_size = 50
augment = "flipcrop"
momentum = 0.9
weight_decay = 0.0005
seed = 1

[[sweep]]
zip = { lr = [0.01, 0.03, 0.03], warmup_epochs = [0.0, 0.0, 1.0] }
EOF
}

data=$work/data
study=$work/chaos.toml
make_data "$data"
write_study "$study"

# --- running and killing ---------------------------------------------------

now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }
ms_to_s() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
# A random whole number in [0, n) from bash's seeded RANDOM.
# Sets `r`; never called in a subshell, whose RANDOM would not advance ours.
rand_below() { r=$(((RANDOM * 32768 + RANDOM) % $1)); }

exec {nap_fd}<> <(:)  # a pipe nobody writes to: `read -t` on it sleeps

pid=
# True while the study command runs (a child that ended stays a zombie until
# waited for); builtins only, so it can be polled in a tight loop.
alive() {
  local stat
  { read -r stat <"/proc/$pid/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

# Starts the study command in its own session, so its pid is its process
# group, and returns once it is (setsid runs in the child after the fork).
start_study() {
  local dir=$1 log=$2 stat
  setsid "$binary" study run "$study" --out "$dir" --data "$data" --jobs 2 \
    --threads-per-job 1 >>"$log" 2>&1 </dev/null &
  pid=$!
  live_pgid=$pid
  for _ in {1..1000}; do
    { read -r stat <"/proc/$pid/stat"; } 2>/dev/null || return 0
    stat=${stat##*) }
    read -r _ _ stat _ <<<"$stat"  # state, ppid, pgrp
    [[ $stat == "$pid" ]] && return 0
    sleep 0.001
  done
  say "the study command $pid did not get its own process group"
  exit 1
}

# Waits for the study command and sets `study_rc` to its exit code; then
# waits until no process of its group is left (workers of a killed group).
finish_study() {
  study_rc=0
  { wait "$pid"; } 2>/dev/null || study_rc=$?  # no "Killed" line from bash
  while find_procs 5 "$pid" && ((${#procs[@]})); do sleep 0.05; done
  live_pgid=
}

run_to_end() {  # dir log; sets study_rc
  start_study "$1" "$2"
  finish_study
}

# Sleeps until `ms` after `t0`, unless the study command ends first; 0 if it
# is still running then.
sleep_until() {
  local t0=$1 ms=$2
  while alive; do
    (($(now_ms) - t0 >= ms)) && return 0
    sleep 0.01
  done
  return 1
}

# Live processes (zombies left out) whose parent (field 4 of /proc/PID/stat)
# or process group (field 5) is `value`: sets the array `procs`. Builtins
# only (procps' pgrep is not in every Debian image).
find_procs() {
  local field=$1 value=$2 f stat a
  procs=()
  for f in /proc/[0-9]*/stat; do
    { read -r stat <"$f"; } 2>/dev/null || continue
    read -r -a a <<<"${stat##*) }"  # state, parent, process group, ...
    [[ ${a[0]} != Z && ${a[field - 3]} == "$value" ]] && procs+=("${f//[^0-9]/}")
  done
  return 0
}

# Sets `workers` to the study command's children running `lrtune study worker`
# (a child between fork and exec runs `study run`).
find_workers() {
  local c args
  workers=()
  find_procs 4 "$pid"
  for c in "${procs[@]}"; do
    { mapfile -d '' -t args <"/proc/$c/cmdline"; } 2>/dev/null || continue
    [[ ${args[1]:-} == study && ${args[2]:-} == worker ]] && workers+=("$c")
  done
  return 0
}

# Each kill_* function starts nothing: the study command is `pid`, started at
# `t0`. It kills per its mode, then sets `what` (a short description) and
# `missed` (1 when the moment never came).
kill_group() {  # within the reference run's duration
  rand_below "$ref_ms"
  kill_group_at "$r"
}

kill_early() {  # within the first second
  rand_below 1000
  kill_group_at "$r"
}

kill_group_at() {
  what="group at $(ms_to_s "$1")s"
  missed=1
  if sleep_until "$t0" "$1" && kill -9 -- "-$pid" 2>/dev/null; then missed=0; fi
}

# Returns when the k-th checkpoint write of the run begins (a new
# trials/*/checkpoint.pt.tmp; a write takes 10-30 ms here, and the poll is
# every 2 ms), setting `tmp` to it; 1 if the run ends first.
await_write() {
  local dir=$1 k=$2 hits seen=0 before=$'\n' now
  shopt -s nullglob
  while alive; do
    hits=("$dir"/trials/*/checkpoint.pt.tmp)
    now=$'\n'
    for tmp in "${hits[@]}"; do
      now+=$tmp$'\n'
      [[ $before == *$'\n'$tmp$'\n'* ]] && continue
      ((++seen == k)) && { shopt -u nullglob; return 0; }
    done
    before=$now
    read -r -t 0.002 -u "$nap_fd" _ || true  # sleeps 2 ms without a process
  done
  shopt -u nullglob
  return 1
}

# Kills one worker at a random moment of the training: after the k-th
# checkpoint write (k random, 0 = the first worker's start, at most the
# reference's writes less one) plus a random part of the reference's mean
# epoch time, so the moment follows the run's progress, not the clock.
kill_worker() {
  local dir=$1 k t_k epoch_ms
  epoch_ms=$(((work_to - work_from) * 2 / ref_rows + 1))  # 2 workers
  rand_below $((ref_rows > 1 ? ref_rows - 1 : 1))
  k=$r
  rand_below "$epoch_ms"
  what="one worker ${r}ms after checkpoint write $k of $ref_rows"
  missed=1
  if ((k)); then
    await_write "$dir" "$k" || return 0
  else
    while alive && find_workers && ((${#workers[@]} == 0)); do sleep 0.02; done
  fi
  t_k=$(now_ms)
  sleep_until "$t_k" "$r" || return 0
  while alive; do  # none may be running at that moment: the next one, then
    find_workers
    if ((${#workers[@]})); then
      rand_below ${#workers[@]}
      if kill -9 "${workers[r]}" 2>/dev/null; then
        what+=": worker ${workers[r]} at $(ms_to_s $(($(now_ms) - t0)))s"
        missed=0
        return 0
      fi
    fi
    sleep 0.02
  done
}

# Kills the group during the k-th checkpoint write of the run (k random, out
# of the reference's one write per epoch row).
kill_checkpoint() {
  local dir=$1 k
  rand_below "$ref_rows"
  k=$((r + 1))
  what="checkpoint write $k of $ref_rows"
  missed=1
  await_write "$dir" "$k" || return 0
  kill -9 -- "-$pid" 2>/dev/null || return 0
  tmp=${tmp%/*}
  what+=" at $(ms_to_s $(($(now_ms) - t0)))s (trial ${tmp##*/})"
  missed=0
}

# --- comparing exports ---------------------------------------------------------

# Compares a run's export with the reference's (scripts/lib/compare_exports.py):
# prints "lost dup extra diff status" (status: trials whose final status
# differs) and details on stderr.
compare() {
  "$python" "$(dirname "${BASH_SOURCE[0]}")/lib/compare_exports.py" --prefix "chaos:   " "$1" "$2" |
    cut -d ' ' -f 3-7
}

export_csv() {  # dir file
  "$binary" study export "$1" --format csv --out "$2"
}

# --- the runs ----------------------------------------------------------------

started=$(now_ms)
say "seed $seed (reproduce: scripts/chaos.sh --runs $runs --seed $seed --modes $modes)"
say "working folder $work"

# The reference run, watched for when its workers run: work_from and work_to
# (ms after the start) give the worker mode its mean epoch time.
t0=$(now_ms)
start_study "$work/reference" "$work/reference.log"
work_from='' work_to=''
while alive; do
  find_workers
  if ((${#workers[@]})); then
    work_to=$(($(now_ms) - t0))
    : "${work_from:=$work_to}"
  fi
  sleep 0.05
done
finish_study
ref_ms=$(($(now_ms) - t0))
: "${work_from:=0}" "${work_to:=$ref_ms}"
if [[ $study_rc != 0 ]] || ! export_csv "$work/reference" "$work/reference.csv"; then
  say "the uninterrupted reference run failed (exit $study_rc); its log:"
  tail -n 20 "$work/reference.log" >&2
  exit 1
fi
ref_rows=$(($(wc -l <"$work/reference.csv") - 1))
say "reference: $ref_rows epoch rows in $(ms_to_s "$ref_ms")s, workers from $(ms_to_s "$work_from")s to $(ms_to_s "$work_to")s"

declare -A n_runs n_done n_lost n_dup n_extra n_diff n_missed
failed=0

# Adds one run's figures to its mode's: completed (0/1), lost, duplicated,
# extra and differing rows, missed (0/1).
tally() {
  local mode=$1
  n_runs[$mode]=$((${n_runs[$mode]:-0} + 1))
  n_done[$mode]=$((${n_done[$mode]:-0} + $2))
  n_lost[$mode]=$((${n_lost[$mode]:-0} + $3))
  n_dup[$mode]=$((${n_dup[$mode]:-0} + $4))
  n_extra[$mode]=$((${n_extra[$mode]:-0} + $5))
  n_diff[$mode]=$((${n_diff[$mode]:-0} + $6))
  n_missed[$mode]=$((${n_missed[$mode]:-0} + $7))
}

# One run of `mode` (number `m`, run `i`): start, kill, rerun until complete,
# export, compare, tally.
one_run() {
  local mode=$1 m=$2 i=$3 total=$4
  local dir=$work/$mode-$i log=$work/$mode-$i.log csv=$work/$mode-$i.csv
  # Each run reproducible on its own; cksum mixes the numbers (nearby seeds
  # give bash's RANDOM nearby first values).
  RANDOM=$(printf '%s' "$seed.$m.$i" | cksum | cut -d' ' -f1)
  what="no kill"
  missed=0
  start_study "$dir" "$log"
  t0=$(now_ms)
  [[ $mode == control ]] || "kill_$mode" "$dir"
  finish_study
  local first_rc=$study_rc
  # Always once more (rerunning a finished study must change nothing), then
  # until it completes.
  local reruns=0
  while ((reruns == 0)) || { [[ $study_rc != 0 ]] && ((reruns < max_reruns)); }; do
    echo "--- rerun $((reruns + 1)) (the previous command exited $study_rc)" >>"$log"
    run_to_end "$dir" "$log"
    reruns=$((reruns + 1))
  done
  local c=("$ref_rows" 0 0 0 1) completed=0
  if export_csv "$dir" "$csv" 2>>"$log"; then
    read -r -a c < <(compare "$work/reference.csv" "$csv")
  else
    say "  the export failed; see $log"
  fi
  [[ $study_rc == 0 && ${c[4]} == 0 ]] && completed=1
  tally "$mode" "$completed" "${c[0]}" "${c[1]}" "${c[2]}" "${c[3]}" "$missed"
  local verdict=ok
  if ((!completed || c[0] || c[1] || c[2] || c[3])); then
    verdict="FAILED (mode $mode, run $i, seed $seed; log $log)"
    failed=1
  fi
  ((missed)) && what+=" (missed: the run ended first)"
  say "$mode $i/$total: $what; exit $first_rc, $reruns rerun(s), last exit $study_rc;" \
    "lost ${c[0]} dup ${c[1]} extra ${c[2]} diff ${c[3]}: $verdict"
}

# A mode's number seeds its runs, so --modes with fewer modes repeats them.
declare -A mode_number=([control]=0 [group]=1 [worker]=2 [early]=3 [checkpoint]=4)
one_run control 0 1 1
for mode in "${mode_list[@]}"; do
  for ((i = 1; i <= runs; i++)); do one_run "$mode" "${mode_number[$mode]}" "$i" "$runs"; done
done

wall_ms=$(($(now_ms) - started))
echo "| kill mode | runs | completed | lost rows | duplicated rows | extra rows | differing rows | missed kills |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for mode in control "${mode_list[@]}"; do
  echo "| $mode | ${n_runs[$mode]:-0} | ${n_done[$mode]:-0} | ${n_lost[$mode]:-0} | ${n_dup[$mode]:-0} |" \
    "${n_extra[$mode]:-0} | ${n_diff[$mode]:-0} | ${n_missed[$mode]:-0} |"
done
echo
echo "seed $seed, $runs run(s) per mode, reference study $(ms_to_s "$ref_ms")s, $(ms_to_s "$wall_ms")s in all"
if ((failed)); then
  say "FAILED: rows lost, duplicated, extra or different, or a run that did not complete (seed $seed)"
  exit 1
fi
say "all runs completed with the reference's rows"
