#!/usr/bin/env bash
# Slurm test of studies shared through PostgreSQL: starts a one-node Slurm
# (munged, slurmctld, slurmd) and a throw-away PostgreSQL server in a
# temporary folder, runs a tiny study with a two-task job array
# (scripts/slurm/submit.sh, lrtune-workers.sbatch) and another with a task
# requeued half-way, and compares the exported epochs with uninterrupted
# one-worker runs of the same studies. docs/cluster.md describes the scripts.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/slurm_test.sh [--binary PATH] [--work DIR] [--keep] [--timeout S]
                             [--slurm-only]

Starts munged, slurmctld and slurmd (one node, this host, all its CPUs) with
their own key, configuration, ports, state and logs in a temporary folder,
and a throw-away PostgreSQL server (scripts/lib/throwaway_postgres.sh). Two
tiny generated studies each run once by one `lrtune study worker --threads 1`
in this shell (the references, in one database) and once under Slurm (in
another database):

  array    3 trials x 3 epochs: scripts/slurm/submit.sh FILE 2 (`lrtune study
           create`, then `sbatch --array=1-2 lrtune-workers.sbatch`; 1 CPU
           per task, worker flag --threads 1)
  requeue  1 trial x 30 epochs: a one-task array of lrtune-workers.sbatch,
           requeued (`scontrol requeue`, as preemption does) after epoch 2,
           its local trial folder removed, and released at once

Each is exported (`lrtune study export NAME --format csv`) and compared with
its reference. The test passes when every task ended COMPLETED with exit code
0:0 (scontrol; its output ends with "worker exited 0"), the requeued worker
stopped, gave its trial back and the task resumed it from the epoch it
stopped after, every trial is done, every epoch appears once, and every row
equals the reference's (trial id, label, swept keys, status, epoch, lr,
losses, accuracies; timing columns are ignored).

Options:
  --binary PATH  the lrtune binary (default build/lrtune)
  --work DIR     working folder (default: a new temporary folder, removed at
                 the end unless --keep; a given DIR is kept)
  --keep         keep the working folder (configuration, logs, job output)
  --timeout S    give up (and fail) after S seconds in all (default 200)
  --slurm-only   start Slurm, run a trivial two-task job array, check it, stop
  --help         this text

Prints a summary line. Exits 0 on success, 1 on a failure, 2 for a bad
option, 77 ("skipped: ...") when slurmctld, slurmd, munged or PostgreSQL are
missing or cannot start here (they run as root: not root is a skip too).
EOF
}

binary=build/lrtune
work=
keep=0
timeout_s=200
slurm_only=0
while (($#)); do
  case $1 in
    --binary) binary=${2:?--binary needs a path}; shift 2 ;;
    --work) work=${2:?--work needs a folder}; keep=1; shift 2 ;;
    --keep) keep=1; shift ;;
    --timeout) timeout_s=${2:?--timeout needs seconds}; shift 2 ;;
    --slurm-only) slurm_only=1; shift ;;
    --help | -h) usage; exit 0 ;;
    *) echo "slurm_test.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $timeout_s =~ ^[1-9][0-9]*$ ]] || { echo "slurm_test.sh: --timeout: expected whole seconds, got $timeout_s" >&2; exit 2; }

say() { echo "slurm_test: $*" >&2; }
skip() { echo "skipped: $*"; exit 77; }
fail() { say "FAILED: $*"; exit 1; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=python3
[[ -x /usr/bin/python3 ]] && python=/usr/bin/python3

# --- what it needs -----------------------------------------------------------

missing=()
for p in munged mungekey munge slurmctld slurmd sbatch squeue sinfo scontrol scancel; do
  command -v "$p" >/dev/null 2>&1 || [[ -x /usr/sbin/$p ]] || missing+=("$p")
done
((${#missing[@]} == 0)) || skip "${missing[*]} not installed (scripts/setup.sh installs munge, slurmctld, slurmd, slurm-client)"
((EUID == 0)) || skip "not root (this test runs munged, slurmctld and slurmd as root)"
PATH=$PATH:/usr/sbin
if ((!slurm_only)); then
  [[ -x $binary ]] || fail "$binary: no such executable (build it, or pass --binary)"
  binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
fi

if [[ -z $work ]]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/lrtune-slurm-XXXXXX")
else
  mkdir -p "$work"
  work=$(cd "$work" && pwd)
fi
chmod 755 "$work"  # the PostgreSQL server runs as the postgres user below it

now_s() { echo "${EPOCHREALTIME%[.,]*}"; }
now_us() { echo "${EPOCHREALTIME/[.,]/}"; }
since() { local d=$(($(now_us) - $1)); printf '%d.%ds' $((d / 1000000)) $((d / 100000 % 10)); }  # "12.3s"
started=$(now_us)
deadline=$(($(now_s) + timeout_s))
past_deadline() { (($(now_s) >= deadline)); }

# Daemons this test started (pid -> name), stopped by the EXIT trap.
declare -A daemons=()
job_ids=()
conf=$work/slurm/slurm.conf

. "$repo/scripts/lib/throwaway_postgres.sh"

# Waits (a poll every 0.2 s) until `pid` has ended, at most `s` seconds; 1 if not.
await_exit() {
  local pid=$1 s=$2 end
  end=$(($(now_s) + s))
  while [[ -e /proc/$pid ]]; do
    local stat=
    { read -r stat <"/proc/$pid/stat"; } 2>/dev/null || return 0
    stat=${stat##*) }
    [[ ${stat:0:1} == Z ]] && return 0
    (($(now_s) >= end)) && return 1
    sleep 0.2
  done
}

stop_pid() {  # pid: SIGTERM, then SIGKILL after 15 s
  kill -TERM "$1" 2>/dev/null || return 0
  await_exit "$1" 15 || kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# Processes left by this test's Slurm: job scripts, workers and slurmstepd
# carry SLURM_CONF=<this test's slurm.conf> in their environment.
leftover_pids() {
  local f pid e
  leftovers=()
  for f in /proc/[0-9]*/environ; do
    pid=${f#/proc/}
    pid=${pid%/environ}
    [[ $pid == "$$" || $pid == "$BASHPID" || -n ${daemons[$pid]:-} ]] && continue
    while IFS= read -r -d '' e; do
      if [[ $e == "SLURM_CONF=$conf" ]]; then
        leftovers+=("$pid")
        break
      fi
    done 2>/dev/null <"$f" || true
  done
}

cleanup() {
  local rc=$? pid end
  set +e
  trap - INT TERM
  if ((${#job_ids[@]})) && [[ -n ${daemons[${ctld_pid:-x}]:-} ]]; then
    scancel "${job_ids[@]}" 2>/dev/null
    end=$(($(now_s) + 30))
    while [[ -n $(squeue -h -o %i 2>/dev/null) ]] && (($(now_s) < end)); do sleep 0.5; done
  fi
  for pid in ${slurmd_pid:-} ${ctld_pid:-}; do stop_pid "$pid"; unset "daemons[$pid]"; done
  leftover_pids
  for pid in "${leftovers[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  for pid in "${!daemons[@]}"; do stop_pid "$pid"; done
  pg_stop
  if ((keep)); then
    say "working folder kept: $work"
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- munge and Slurm -------------------------------------------------------------

# Two TCP ports nobody listens on now.
free_ports() {
  "$python" -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])'
}

start_munge() {
  local m=$work/munge end
  mkdir -p "$m"
  chmod 755 "$m"  # job processes reach the socket
  mungekey -c -k "$m/munge.key" >/dev/null 2>&1 ||
    { dd if=/dev/urandom of="$m/munge.key" bs=1024 count=1 status=none && chmod 600 "$m/munge.key"; } ||
    skip "cannot make a munge key"
  munged -F -f --socket="$m/munge.socket" --key-file="$m/munge.key" --log-file="$m/munged.log" \
    --pid-file="$m/munged.pid" --seed-file="$m/munged.seed" >"$m/munged.out" 2>&1 </dev/null &
  munged_pid=$!
  daemons[$munged_pid]=munged
  end=$(($(now_s) + 30))
  until munge -n -S "$m/munge.socket" 2>/dev/null | unmunge -S "$m/munge.socket" >/dev/null 2>&1; do
    [[ -e /proc/$munged_pid ]] || skip "munged did not start: $(tail -n 3 "$m/munged.out")"
    (($(now_s) < end)) || skip "munged answers no credential request within 30 s: $(tail -n 3 "$m/munged.out")"
    sleep 0.2
  done
  munge_socket=$m/munge.socket
}

write_slurm_conf() {
  local s=$work/slurm ctld_port slurmd_port memory
  mkdir -p "$s/state" "$s/spool"
  read -r ctld_port slurmd_port < <(free_ports)
  node=$(hostname -s)
  # The node's memory as slurmd sees it (job --mem must fit in it).
  memory=$(slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -n 1)
  cat >"$conf" <<EOF
ClusterName=lrtunetest
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$munge_socket
CredType=cred/munge
StateSaveLocation=$s/state
SlurmdSpoolDir=$s/spool
SlurmctldPidFile=$s/slurmctld.pid
SlurmdPidFile=$s/slurmd.pid
SlurmctldLogFile=$s/slurmctld.log
SlurmdLogFile=$s/slurmd.log
PlugStackConfig=$s/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
ReturnToService=2
MailProg=/bin/true
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=${memory:-1} State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
  : >"$s/plugstack.conf"
  echo "CgroupPlugin=autodetect" >"$s/cgroup.conf"  # read, never used: no cgroup plugin above
  export SLURM_CONF=$conf
}

# Starts slurmctld and slurmd and waits until sinfo shows the node idle.
start_slurm() {
  local s=$work/slurm end state
  slurmctld -D -f "$conf" >"$s/slurmctld.out" 2>&1 </dev/null &
  ctld_pid=$!
  daemons[$ctld_pid]=slurmctld
  slurmd -D -f "$conf" -N "$node" >"$s/slurmd.out" 2>&1 </dev/null &
  slurmd_pid=$!
  daemons[$slurmd_pid]=slurmd
  end=$(($(now_s) + 60))
  while :; do
    state=$(sinfo -h -n "$node" -o %T 2>/dev/null || true)
    [[ $state == idle ]] && break
    [[ -e /proc/$ctld_pid ]] || skip "slurmctld did not start: $(tail -n 3 "$s/slurmctld.out")"
    [[ -e /proc/$slurmd_pid ]] || skip "slurmd did not start: $(tail -n 3 "$s/slurmd.out")"
    (($(now_s) < end)) || skip "node $node not idle in sinfo within 60 s (state '${state:-none}'): $(tail -n 3 "$s/slurmd.log")"
    sleep 0.2
  done
  say "Slurm up: node $node idle with $(nproc) CPU(s) ($(sinfo -V))"
}

# Waits until squeue lists none of the job `id`'s tasks as pending or running.
await_job() {
  local id=$1 left
  while :; do
    left=$(squeue -h -j "$id" -o '%i %T' 2>&1) || fail "squeue -j $id: $left"
    [[ -z $left ]] && return 0
    past_deadline && fail "job $id not ended within --timeout $timeout_s s: $(tr '\n' ';' <<<"$left")"
    sleep 0.5
  done
}

# Checks that job `id` has `n` array tasks, each COMPLETED with exit code 0:0
# (scontrol keeps ended jobs for MinJobAge, 300 s); sets `job_states`.
check_job() {
  local id=$1 n=$2 line task state code count=0 bad=0
  job_states=
  while IFS= read -r line; do
    [[ $line == *" ArrayJobId=$id "* ]] || continue
    task=$(sed -n 's/.* ArrayTaskId=\([^ ]*\) .*/\1/p' <<<"$line")
    state=$(sed -n 's/.* JobState=\([^ ]*\) .*/\1/p' <<<"$line")
    code=$(sed -n 's/.* ExitCode=\([^ ]*\) .*/\1/p' <<<"$line")
    count=$((count + 1))
    job_states+="${job_states:+, }task $task $state $code"
    [[ $state == COMPLETED && $code == 0:0 ]] || bad=1
  done < <(scontrol -o show job "$id")
  ((count == n && !bad))
}

start_munge
write_slurm_conf
start_slurm

if ((slurm_only)); then
  t0=$(now_us)
  # shellcheck disable=SC2016  # expanded in the job
  id=$(sbatch --parsable --array=1-2 --chdir="$work" --output="$work/wrap-%A_%a.out" \
    --wrap='echo "task $SLURM_ARRAY_TASK_ID on $(hostname -s)"')
  id=${id%%;*}
  job_ids+=("$id")
  await_job "$id"
  check_job "$id" 2 || fail "trivial job array $id: $job_states"
  for t in 1 2; do
    grep -qx "task $t on $node" "$work/wrap-${id}_$t.out" || fail "wrap-${id}_$t.out: $(cat "$work/wrap-${id}_$t.out")"
  done
  echo "slurm_test: ok: trivial job array $id: $job_states; $(since "$t0") ($(since "$started") in all)"
  exit 0
fi

# --- PostgreSQL, data and study --------------------------------------------------

pg_start "$work/pg" >"$work/pg-start.log" 2>&1 || skip "PostgreSQL: $(tail -n 3 "$work/pg-start.log")"
pg_createdb reference
pg_createdb slurm
reference_url=$(pg_url 127.0.0.1 reference)
slurm_url=$(pg_url 127.0.0.1 slurm)

# Tiny CIFAR-10 binary files (scripts/lib/tiny_cifar.py): each class has its
# own mean colour, plus noise, so the network learns.
"$python" "$(dirname "${BASH_SOURCE[0]}")/lib/tiny_cifar.py" "$work/data" 100 100

# A study file like scripts/chaos.sh's: name, epochs, then the sweep.
write_study() {
  cat >"$work/$1.toml" <<EOF
name = "$1"
description = "Tiny study for scripts/slurm_test.sh"

[base]
train_subset = 150
val_size = 100
epochs = $2
batch_size = 50
augment = "flipcrop"
momentum = 0.9
weight_decay = 0.0005
seed = 1

[[sweep]]
zip = $3
EOF
}
# The array: 3 trials x 3 epochs, so one of the two workers goes on to a
# second trial. The requeue: one trial long enough to be stopped half-way.
write_study array 3 '{ lr = [0.01, 0.03, 0.03], warmup_epochs = [0.0, 0.0, 1.0] }'
write_study requeue 30 '{ lr = [0.03], warmup_epochs = [1.0] }'

# Compares an export with the reference's (scripts/lib/compare_exports.py):
# prints its counts ("trials rows ...") on its first line, then one line per
# problem (lost, duplicated, extra or differing rows, trials not done).
compare() {
  "$python" "$(dirname "${BASH_SOURCE[0]}")/lib/compare_exports.py" --notes-to-stdout "$1" "$2"
}

failed=()
# Adds compare's problems to `failed` and sets `n_trials` and `n_rows`.
check_export() {  # what reference.csv run.csv
  local what=$1 verdict note
  verdict=$(compare "$2" "$3")
  read -r n_trials n_rows _ <<<"$(head -n 1 <<<"$verdict")"
  while IFS= read -r note; do [[ -n $note ]] && failed+=("$what: $note"); done < <(tail -n +2 <<<"$verdict")
}

# --- the references: one worker in this shell, in their own database -----------------

t0=$(now_us)
for name in array requeue; do
  log=$work/reference-$name.log
  "$binary" study create "$work/$name.toml" --store "$reference_url" --out "$work/reference" >"$log" 2>&1 ||
    fail "lrtune study create (reference $name) failed: $(tail -n 5 "$log")"
  rc=0
  timeout $((deadline - $(now_s))) "$binary" study worker --store "$reference_url" --study "$name" \
    --threads 1 --data "$work/data" --dir "$work/reference" >>"$log" 2>&1 || rc=$?
  ((rc != 124)) || fail "the reference worker of $name did not end within --timeout $timeout_s s"
  ((rc == 0)) || fail "the reference worker of $name exited $rc: $(tail -n 5 "$log")"
  "$binary" study export "$name" --store "$reference_url" --format csv --out "$work/reference-$name.csv" \
    2>>"$log" || fail "lrtune study export (reference $name) failed: $(tail -n 3 "$log")"
done
n_ref=$(($(wc -l <"$work/reference-array.csv") - 1))
((n_ref == 9)) || fail "the reference has $n_ref epoch rows, not 9 (3 trials x 3 epochs)"
reference_s=$(since "$t0")

# --- the job array: scripts/slurm/submit.sh STUDY_FILE 2 ---------------------------------

t0=$(now_us)
export LRTUNE_STORE=$slurm_url LRTUNE_BIN=$binary
submitted=$(cd "$work" && "$repo/scripts/slurm/submit.sh" "$work/array.toml" 2 --parsable --cpus-per-task=1 \
  --mem=200M --output="$work/array-%A_%a.out" -- --threads 1 --data "$work/data" --dir "$work/array-trials" 2>&1) ||
  fail "scripts/slurm/submit.sh failed: $submitted"
echo "$submitted" >"$work/submit.log"
id=$(tail -n 1 <<<"$submitted")
id=${id%%;*}
[[ $id =~ ^[0-9]+$ ]] || fail "no job id from submit.sh: $submitted"
job_ids+=("$id")
say "job array $id submitted; waiting for its tasks"
await_job "$id"
check_job "$id" 2 || failed+=("array: tasks $job_states")
array_states=$job_states
trained=()
for t in 1 2; do
  out=$work/array-${id}_$t.out
  if ! [[ -f $out ]] || ! tail -n 1 "$out" | grep -q ': worker exited 0$'; then
    failed+=("array: task $t's output does not end with 'worker exited 0': $(tail -n 3 "$out" 2>/dev/null | tr '\n' ' ')")
  fi
  trained+=("$(grep -c 'starting trial' "$out" 2>/dev/null || true)")
done
"$binary" study status array >"$work/array-status.txt" 2>&1 ||
  failed+=("array: lrtune study status: $(tail -n 3 "$work/array-status.txt")")
"$binary" study export array --format csv --out "$work/array.csv" 2>"$work/array-export.log" ||
  fail "lrtune study export array failed: $(tail -n 3 "$work/array-export.log")${failed[*]:+; also: ${failed[*]}}"
check_export array "$work/reference-array.csv" "$work/array.csv"
array_summary="$n_trials trials, $n_rows epoch rows from job array $id ($array_states; trials started per task: ${trained[*]}) against $n_ref from one worker, in $(since "$t0")"

# --- requeued as when preempted: the worker stops, the trial resumes ----------------------

# A one-task array on the one long trial, requeued (`scontrol requeue`, as
# preemption with --requeue does) after its second epoch: Slurm sends SIGTERM,
# the worker stops and gives the trial back, and the task, released from the
# two minutes a requeued job waits, resumes it from the database's checkpoint
# (its local folder is removed in between, as on another node).
t0=$(now_us)
"$binary" study create "$work/requeue.toml" --out "$work/requeue-out" >"$work/requeue-create.log" 2>&1 ||
  fail "lrtune study create requeue failed: $(tail -n 5 "$work/requeue-create.log")"
out=$work/requeue.out
id=$(cd "$work" && sbatch --parsable --array=1-1 --cpus-per-task=1 --mem=200M --output="$out" \
  "$repo/scripts/slurm/lrtune-workers.sbatch" requeue --threads 1 --data "$work/data" --dir "$work/requeue-trials" 2>&1) ||
  fail "sbatch (requeue) failed: $id"
id=${id%%;*}
job_ids+=("$id")
until grep -q 'epoch 2/30' "$out" 2>/dev/null; do
  [[ -n $(squeue -h -j "$id" -o %i) ]] || fail "requeue: job $id ended before its second epoch: $(tail -n 3 "$out" 2>/dev/null | tr '\n' ' ')"
  past_deadline && fail "requeue: no second epoch within --timeout $timeout_s s"
  sleep 0.05
done
scontrol requeue "${id}_1" || fail "scontrol requeue ${id}_1 failed"
until scontrol -o show job "${id}_1" | grep -q ' JobState=PENDING '; do
  past_deadline && fail "requeue: job ${id}_1 not pending again within --timeout $timeout_s s"
  sleep 0.2
done
rm -rf "$work/requeue-trials"
scontrol update jobid="${id}_1" StartTime=now || fail "scontrol update jobid=${id}_1 StartTime=now failed"
await_job "$id"
check_job "$id" 1 || failed+=("requeue: task $job_states")
requeue_states=$job_states
restarts=$(scontrol -o show job "${id}_1" | sed -n 's/.* Restarts=\([0-9]*\) .*/\1/p')
[[ $restarts == 1 ]] || failed+=("requeue: Restarts=$restarts, not 1")
stopped=$(sed -n 's/.*stopped after epoch \([0-9]*\);.*/\1/p' "$out" | head -n 1)
resumed=$(sed -n 's/.*resuming after epoch \([0-9]*\) .*/\1/p' "$out" | head -n 1)
mapfile -t exits < <(sed -n 's/.*: worker exited \([0-9]*\)$/\1/p' "$out")
[[ -n $stopped ]] || failed+=("requeue: the worker did not stop on the requeue's SIGTERM (no 'stopped after epoch' in $out)")
[[ $resumed == "$stopped" ]] || failed+=("requeue: resumed after epoch '${resumed}', stopped after '${stopped}'")
[[ ${#exits[@]} == 2 && ${exits[0]} == 130 && ${exits[1]} == 0 ]] ||
  failed+=("requeue: worker exits '${exits[*]}', expected 130 (stopped), then 0")
"$binary" study export requeue --format csv --out "$work/requeue.csv" 2>"$work/requeue-export.log" ||
  fail "lrtune study export requeue failed: $(tail -n 3 "$work/requeue-export.log")${failed[*]:+; also: ${failed[*]}}"
check_export requeue "$work/reference-requeue.csv" "$work/requeue.csv"
requeue_summary="requeued task ($requeue_states, Restarts=$restarts): stopped after epoch ${stopped:-?} (worker exit ${exits[0]:-?}), resumed there, $n_rows epoch rows equal to one worker's, in $(since "$t0")"

summary="$array_summary; $requeue_summary; references $reference_s; $(since "$started") in all"
if ((${#failed[@]})); then
  for f in "${failed[@]}"; do say "  $f"; done
  echo "slurm_test: FAILED: $summary"
  exit 1
fi
echo "slurm_test: ok: $summary"
