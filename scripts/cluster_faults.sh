#!/usr/bin/env bash
# Fault test of a study kept in PostgreSQL and trained by workers on three
# hosts (network namespaces): kills a host's workers, cuts a host's link,
# restarts the server, and compares every exported epoch with an
# uninterrupted run (scripts/chaos.sh does the same for one host).
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/cluster_faults.sh [--binary PATH] [--work DIR] [--keep] [--modes LIST]

Makes three test hosts, each a network namespace joined to this one by a veth
link on a subnet of its own, and a throw-away PostgreSQL server listening on
the links' addresses (scripts/lib/throwaway_postgres.sh). A tiny generated
study (6 trials x 4 epochs) is first run uninterrupted by one worker
(`lrtune study worker --threads 1`, its own database) and exported as CSV:
the reference. Then, per mode, a fresh database gets the study
(`lrtune study create`), one worker per host joins it
(`ip netns exec HOST lrtune study worker --store URL --study NAME --threads 1
--stale-after 4 --heartbeat-every 0.5`), and mid-study, once an event has
been seen in the database (never after a fixed sleep), a fault comes:

  kill     every lrtune process of host 1 gets SIGKILL once its worker holds
           a trial with epochs stored and epochs to go; another worker takes
           the trial over when its heartbeat is stale
  link     host 2's link goes down once its worker holds such a trial, and
           comes back up once another worker has taken that trial over (its
           lease changed): the cut-off worker reconnects, finds its writes
           refused and drops the trial
  restart  the server restarts (pg_ctl restart -m fast) once a trial has
           epochs stored and epochs to go

Workers are expected to exit 0, except those killed. Should trials be left
unfinished when every worker has ended (the killed host's trial, stale only
after the others ran out of work), one more worker joins from host 3, once
no unfinished trial has a fresh heartbeat. The export
(`lrtune study export NAME --store URL --format csv`) must then hold every
(trial, epoch) of the reference once, with the same text in every column but
the timing ones (seconds, images_per_s): trial id, label, swept keys, status,
epoch, lr, losses and accuracies.

Options:
  --binary PATH  the lrtune binary (default build/lrtune)
  --work DIR     working folder (default: a new temporary folder, removed at
                 the end unless --keep; a given DIR is kept)
  --keep         keep the working folder (data, worker logs, exports, the
                 server's log)
  --modes LIST   comma-separated modes to run (default kill,link,restart)
  --help         this text

Prints one line per mode on standard output ("kill: 6 trials, 24 epochs, 0
lost, 0 duplicated, values identical (21.3 s)") and progress on standard
error. Exits 0 when every mode ended with the reference's rows and its
workers exited as expected; 1 otherwise; 2 for a bad option; 77 (printing
"skipped: ...") where network namespaces cannot be made (not root, no `ip`,
`ip netns add` refused) or PostgreSQL cannot start.
EOF
}

binary=build/lrtune
work=
keep=0
modes=kill,link,restart
stale_after=4       # seconds without a heartbeat before a takeover
heartbeat_every=0.5
store_retry=30      # seconds a worker retries a lost server before it gives up
hosts=(1 2 3)

while (($#)); do
  case $1 in
    --binary) binary=${2:?--binary needs a path}; shift 2 ;;
    --work) work=${2:?--work needs a folder}; keep=1; shift 2 ;;
    --keep) keep=1; shift ;;
    --modes) modes=${2:?--modes needs a list}; shift 2 ;;
    --help | -h) usage; exit 0 ;;
    *) echo "cluster_faults.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
IFS=, read -r -a mode_list <<<"$modes"
for m in "${mode_list[@]}"; do
  case $m in kill | link | restart) ;;
    *) echo "cluster_faults.sh: --modes: unknown mode '$m' (kill, link, restart)" >&2; exit 2 ;;
  esac
done
[[ -x $binary ]] || { echo "cluster_faults.sh: $binary: no such executable (build it, or pass --binary)" >&2; exit 2; }
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
binary_real=$(readlink -f "$binary")  # what /proc/PID/exe of its processes says
worker_help=$("$binary" study worker --help 2>&1 || true)
if [[ $worker_help != *--store* ]]; then
  echo "cluster_faults.sh: $binary has no \`study worker --store\` (a build without PostgreSQL workers)" >&2
  exit 1
fi
retry_flag=()
[[ $worker_help == *--store-retry* ]] && retry_flag=(--store-retry "$store_retry")
python=python3
[[ -x /usr/bin/python3 ]] && python=/usr/bin/python3

say() { echo "cluster: $*" >&2; }
skip() { echo "skipped: $*"; exit 77; }

# shellcheck source=scripts/lib/throwaway_postgres.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/throwaway_postgres.sh"
# shellcheck source=scripts/lib/netns_hosts.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/netns_hosts.sh"

if [[ -z $work ]]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/lrtune-cluster-XXXXXX")
else
  mkdir -p "$work"
  work=$(cd "$work" && pwd)
fi
chmod 711 "$work"  # the server runs as the postgres user, in $work/pg

# --- clean-up ---------------------------------------------------------------

all_pids=()    # every lrtune process this run started
cleanup() {
  local p
  for p in "${all_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  hosts_remove
  pg_stop
  if ((keep)); then say "working folder kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- hosts ------------------------------------------------------------------

# Three hosts (scripts/lib/netns_hosts.sh), the server listening on their links.
hosts_make "${#hosts[@]}" 2>"$work/hosts-why" || skip "$(<"$work/hosts-why")"
pg_start "$work/pg" "${HOST_SERVER_ADDR[@]}" || skip "PostgreSQL cannot start (see above)"
say "working folder $work; hosts on $HOST_SUBNET; server port $PG_PORT"

# --- data and study -----------------------------------------------------------

# Tiny CIFAR-10 binary files (scripts/lib/tiny_cifar.py), 500 images per
# training batch file.
make_data() { "$python" "$(dirname "${BASH_SOURCE[0]}")/lib/tiny_cifar.py" "$1" 500 200; }

# 6 trials x 4 epochs, about 0.6 s an epoch on one thread: a fault lands
# mid-trial. Momentum, a per-step warm-up and augmentation must survive a
# takeover from the checkpoint in the database.
study_name=cluster
write_study() {
  cat >"$1" <<EOF
name = "$study_name"
description = "Tiny study for scripts/cluster_faults.sh"

[base]
train_subset = 2000
val_size = 200
epochs = 4
batch_size = 50
augment = "flipcrop"
momentum = 0.9
weight_decay = 0.0005
seed = 1

[[sweep]]
zip = { lr = [0.01, 0.02, 0.03, 0.03, 0.05, 0.01], warmup_epochs = [0.0, 0.0, 0.0, 1.0, 0.0, 1.0] }
EOF
}

data=$work/data
study=$work/$study_name.toml
make_data "$data"
write_study "$study"

# --- workers ------------------------------------------------------------------

now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }
ms_to_s() { printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100)); }

# True while process $1 runs (a child that ended stays a zombie until waited for).
alive() {
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

# This mode's workers, by index: pid, host (0 = this namespace), log, exit
# code once reaped ("" before), killed (1 when the fault killed it).
w_pid=() w_host=() w_log=() w_rc=() w_killed=()
killed=()  # pids kill_host killed
mode_dir='' db=''

# Starts a worker on host $1 (0: this namespace) for database $db; sets `pid`.
start_worker() {
  local h=$1 n=${#w_pid[@]} log url
  log=$mode_dir/worker-$n-h$h.log
  local args=(study worker --study "$study_name" --dir "$mode_dir/local-$n-h$h" --data "$data"
    --threads 1 --stale-after "$stale_after" --heartbeat-every "$heartbeat_every" "${retry_flag[@]}")
  if ((h == 0)); then url=$(pg_url 127.0.0.1 "$db"); else url=$(pg_url "${HOST_SERVER_ADDR[h]}" "$db"); fi
  host_run "$h" "$binary" "${args[@]}" --store "$url" >"$log" 2>&1 </dev/null &
  pid=$!
  all_pids+=("$pid")
  w_pid+=("$pid") w_host+=("$h") w_log+=("$log") w_rc+=("") w_killed+=(0)
}

# Collects the exit codes of workers that ended; true once all have ended.
reap() {
  local i all_ended=1
  for i in "${!w_pid[@]}"; do
    [[ -z ${w_rc[i]} ]] || continue
    if alive "${w_pid[i]}"; then all_ended=0; continue; fi
    w_rc[i]=0
    { wait "${w_pid[i]}"; } 2>/dev/null || w_rc[i]=$?  # no "Killed" line from bash
  done
  ((all_ended))
}

# True while a worker not on host $1 runs.
others_alive() {
  local i
  for i in "${!w_pid[@]}"; do
    [[ ${w_host[i]} != "$1" && -z ${w_rc[i]} ]] && alive "${w_pid[i]}" && return 0
  done
  return 1
}

# SIGKILLs every lrtune process in host $1's namespace (they are this run's):
# the workers started there and any process of the binary; sets `killed`.
kill_host() {
  local p exe i
  killed=()
  for i in "${!w_pid[@]}"; do
    if [[ ${w_host[i]} == "$1" && -z ${w_rc[i]} ]] && kill -9 "${w_pid[i]}" 2>/dev/null; then
      killed+=("${w_pid[i]}")
      w_killed[i]=1
      w_rc[i]=0
      { wait "${w_pid[i]}"; } 2>/dev/null || w_rc[i]=$?  # reaped here: no "Killed" line from bash
    fi
  done
  for p in $(ip netns pids "${HOST_NS[$1]}"); do
    [[ " ${killed[*]} " == *" $p "* ]] && continue
    exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue
    if [[ $exe == "$binary_real" ]] && kill -9 "$p" 2>/dev/null; then killed+=("$p"); fi
  done
}

# --- the database -------------------------------------------------------------

# One value (or rows, |-separated) of a query on this mode's database; empty
# when the server cannot answer (restarting).
sql() { pg_psql "$db" -c "$1" 2>/dev/null || true; }

# A trial (seq|lease|pid|epochs) running with at least one epoch stored and at
# least two to go, held by worker pid $1 (any worker when $1 is 0).
mid_trial() {
  sql "SELECT t.seq || '|' || t.lease || '|' || t.pid || '|' || count(*) FROM trials t
       JOIN epochs e ON e.trial_seq = t.seq
       WHERE t.status = 'running' AND ($1 = 0 OR t.pid = $1)
       GROUP BY t.seq, t.lease, t.pid, t.epochs_total
       HAVING count(*) BETWEEN 1 AND t.epochs_total - 2 ORDER BY t.seq LIMIT 1"
}

# Polls `$2...` (a command) every 0.1 s until it prints something; sets `got`.
# Fails after $1 seconds (a safety net, never the thing waited for).
await() {
  local limit_ms=$(($1 * 1000)) t0
  shift
  t0=$(now_ms)
  while (($(now_ms) - t0 < limit_ms)); do
    got=$("$@")
    [[ -n $got ]] && return 0
    sleep 0.1
  done
  return 1
}

# Waits until every worker of the mode has ended; 1 after $1 seconds.
await_workers() {
  local limit_ms=$(($1 * 1000)) t0
  t0=$(now_ms)
  until reap; do
    (($(now_ms) - t0 < limit_ms)) || return 1
    sleep 0.2
  done
}

unfinished() { sql "SELECT count(*) FROM trials WHERE status IN ('pending', 'running')"; }
# Prints "yes" once no unfinished trial has a heartbeat fresher than --stale-after.
all_claimable() {
  local n
  n=$(sql "SELECT count(*) FROM trials WHERE status = 'running'
           AND extract(epoch FROM clock_timestamp()) - heartbeat_at <= $stale_after")
  [[ $n == 0 ]] && echo yes
  return 0
}

# --- comparing exports ----------------------------------------------------------

# Compares an export with the reference's (scripts/lib/compare_exports.py):
# prints "trials epochs lost dup extra diff status" and details on stderr.
compare() {
  "$python" "$(dirname "${BASH_SOURCE[0]}")/lib/compare_exports.py" --prefix "cluster:   " "$1" "$2" |
    cut -d ' ' -f 1-7
}

# --- the reference --------------------------------------------------------------

started=$(now_ms)
mode_dir=$work/reference db=lrt_reference
mkdir -p "$mode_dir"
pg_createdb "$db"
"$binary" study create "$study" --store "$(pg_url 127.0.0.1 "$db")" >"$mode_dir/create.log" 2>&1 ||
  { say "lrtune study create failed for the reference:"; tail -n 20 "$mode_dir/create.log" >&2; exit 1; }
t0=$(now_ms)
start_worker 0
await_workers 600 || true
ref_ms=$(($(now_ms) - t0))
if [[ ${w_rc[0]} != 0 ]] ||
  ! "$binary" study export "$study_name" --store "$(pg_url 127.0.0.1 "$db")" --format csv \
    --out "$work/reference.csv" 2>>"$mode_dir/export.log"; then
  say "the uninterrupted reference run failed (worker exit ${w_rc[0]}); its log:"
  tail -n 20 "${w_log[0]}" "$mode_dir/export.log" >&2
  exit 1
fi
ref_rows=$(($(wc -l <"$work/reference.csv") - 1))
say "reference: $ref_rows epoch rows, one worker, $(ms_to_s "$ref_ms") s"

# --- the modes --------------------------------------------------------------------

failed=0
problems=()  # this mode's failures, in words

# The faults. Each starts when an event is seen in the database and records
# what happened in `what`; a problem goes into `problems`.
fault_kill() {
  if ! await 120 mid_trial "${w_pid[0]}"; then
    problems+=("host 1's worker never held a trial with epochs stored and to go")
    return 0
  fi
  local seq=${got%%|*}
  kill_host 1
  what="host 1's ${#killed[@]} lrtune process(es) killed at epoch ${got##*|} of trial seq $seq"
}

fault_link() {
  if ! await 120 mid_trial "${w_pid[1]}"; then
    problems+=("host 2's worker never held a trial with epochs stored and to go")
    return 0
  fi
  local seq lease rest t_down helper=0 row
  IFS='|' read -r seq lease _ rest <<<"$got"
  ip link set "${HOST_VETH[2]}" down
  t_down=$(now_ms)
  what="host 2's link down at epoch $rest of trial seq $seq"
  # Until another worker holds the trial (its lease moved on); should no
  # worker off host 2 be left to take it, one more joins from host 3.
  local limit_ms=$(((stale_after + 60) * 1000))
  while :; do
    row=$(sql "SELECT lease || '|' || pid FROM trials WHERE seq = $seq AND lease > $lease")
    [[ -n $row ]] && break
    if (($(now_ms) - t_down > limit_ms)); then
      problems+=("trial seq $seq not taken over within $((limit_ms / 1000)) s of host 2's link going down")
      problems+=("the server's sessions of host 2: $(host_sessions 2)")
      break
    fi
    reap || true
    if ((!helper)) && ! others_alive 2; then
      start_worker 3
      helper=1
      what+="; one more worker joined from host 3"
    fi
    sleep 0.1
  done
  ip link set "${HOST_VETH[2]}" up
  [[ -n $row ]] && what+="; taken over by pid ${row#*|} after $(ms_to_s $(($(now_ms) - t_down))) s; link up again"
  return 0
}

# The server's sessions from host $1, with the locks they hold on trials: what
# keeps a cut-off host's trial from being taken over, if anything does.
host_sessions() {
  sql "SELECT string_agg(format('pid %s %s (%s) for %s s, transaction open %s s, locks on trials %s, query: %s',
         a.pid, a.state, coalesce(a.wait_event_type || ':' || a.wait_event, 'not waiting'),
         round(extract(epoch FROM now() - a.state_change)::numeric, 1),
         coalesce(round(extract(epoch FROM now() - a.xact_start)::numeric, 1)::text, '-'),
         coalesce((SELECT string_agg(l.mode, ',') FROM pg_locks l
                   WHERE l.pid = a.pid AND l.relation = 'trials'::regclass AND l.granted), 'none'),
         left(regexp_replace(a.query, '\s+', ' ', 'g'), 90)), '; ')
       FROM pg_stat_activity a WHERE a.client_addr = '${HOST_CLIENT_ADDR[$1]}'"
}

fault_restart() {
  if ! await 120 mid_trial 0; then
    problems+=("no trial ever had epochs stored and to go")
    return 0
  fi
  local t
  t=$(now_ms)
  if pg_restart; then
    what="server restarted at epoch ${got##*|} of trial seq ${got%%|*} ($(ms_to_s $(($(now_ms) - t))) s)"
  else
    problems+=("the server did not restart")
  fi
}

run_mode() {
  local mode=$1 t0 i n c
  mode_dir=$work/$mode db=lrt_$mode
  mkdir -p "$mode_dir"
  w_pid=() w_host=() w_log=() w_rc=() w_killed=()
  problems=()
  what="no fault"
  pg_createdb "$db"
  if ! "$binary" study create "$study" --store "$(pg_url 127.0.0.1 "$db")" >"$mode_dir/create.log" 2>&1; then
    problems+=("lrtune study create failed: $(tail -n 3 "$mode_dir/create.log" | tr '\n' ' ')")
    report_mode "$mode" "$(now_ms)"
    return 0
  fi
  t0=$(now_ms)
  for i in "${hosts[@]}"; do start_worker "$i"; done
  "fault_$mode"
  say "$mode: $what"
  if ! await_workers $((store_retry + 90)); then
    problems+=("workers still running $((store_retry + 90)) s after the fault; killed")
    for i in "${!w_pid[@]}"; do [[ -n ${w_rc[i]} ]] || kill -9 "${w_pid[i]}" 2>/dev/null || true; done
    await_workers 10 || true
  fi
  # Trials left unfinished (a killed host's, stale only once the others had
  # run out of work): one more worker from host 3, once they are claimable.
  for _ in 1 2; do
    n=$(unfinished)
    [[ $n == 0 ]] && break
    await $((stale_after + 30)) all_claimable || true
    say "$mode: $n trial(s) unfinished after every worker ended; one more worker joins from host 3"
    start_worker 3
    await_workers $((store_retry + 90)) || { problems+=("the extra worker did not end"); break; }
  done
  for i in "${!w_pid[@]}"; do
    ((w_killed[i])) && continue
    [[ ${w_rc[i]} == 0 ]] ||
      problems+=("the worker on host ${w_host[i]} (pid ${w_pid[i]}) exited ${w_rc[i]:-?}; log ${w_log[i]}: $(tail -n 2 "${w_log[i]}" | tr '\n' ' ')")
  done
  # What the workers said about the fault (their own words; not checked).
  n=0
  for i in "${!w_pid[@]}"; do grep -q 'connected to PostgreSQL again' "${w_log[i]}" && n=$((n + 1)); done
  ((n == 0)) || say "$mode: $n worker(s) reconnected after a lost connection"
  for i in "${!w_pid[@]}"; do
    [[ $mode == link && ${w_host[i]} == 2 ]] || continue
    c=$(grep -m 1 -i 'took this trial over\|taken over' "${w_log[i]}" | cut -c1-160) || true
    say "$mode: host 2's worker exited ${w_rc[i]:-?}; ${c:-it never said its trial was taken over}"
  done
  c=$(sql "SELECT string_agg(id || ' ' || attempts, ', ' ORDER BY seq) FROM trials WHERE attempts > 1")
  [[ -z $c ]] || say "$mode: trials claimed more than once (id attempts): $c"
  "$binary" study status "$study_name" --store "$(pg_url 127.0.0.1 "$db")" >"$mode_dir/status.txt" 2>&1 || true
  report_mode "$mode" "$t0"
}

# Exports, compares and prints the mode's line.
report_mode() {
  local mode=$1 t0=$2 c p secs
  local csv=$work/$mode.csv
  local -a r=(0 0 "$ref_rows" 0 0 0 0)
  if "$binary" study export "$study_name" --store "$(pg_url 127.0.0.1 "$db")" --format csv \
    --out "$csv" 2>"$mode_dir/export.log"; then
    read -r -a r < <(compare "$work/reference.csv" "$csv")
  else
    problems+=("the export failed: $(tail -n 2 "$mode_dir/export.log" | tr '\n' ' ')")
  fi
  secs=$(ms_to_s $(($(now_ms) - t0)))
  if ((r[4])); then problems+=("${r[4]} epoch row(s) the reference does not have"); fi
  if ((r[6])); then problems+=("${r[6]} trial(s) ended otherwise than in the reference"); fi
  if ((r[2] || r[3] || r[5])) || ((${#problems[@]})); then
    c="${r[5]} row(s) differ"
    ((r[5])) || c="values identical"
    echo "$mode: ${r[0]} trials, ${r[1]} epochs, ${r[2]} lost, ${r[3]} duplicated, $c ($secs s): FAILED"
    for p in "${problems[@]}"; do say "  $mode: $p"; done
    if ((keep)); then say "  $mode: logs in $mode_dir"; else say "  $mode: rerun with --keep to keep its logs"; fi
    failed=1
  else
    echo "$mode: ${r[0]} trials, ${r[1]} epochs, 0 lost, 0 duplicated, values identical ($secs s)"
  fi
}

for mode in "${mode_list[@]}"; do run_mode "$mode"; done

say "$(ms_to_s $(($(now_ms) - started))) s in all (reference $(ms_to_s "$ref_ms") s)"
if ((failed)); then
  say "FAILED: a mode lost, duplicated or changed epochs, or a worker did not end as expected"
  exit 1
fi
say "every mode ended with the reference's epochs"
