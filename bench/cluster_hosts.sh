#!/usr/bin/env bash
# A tiny real study kept in PostgreSQL, trained by workers on 1 host and then
# on 3 hosts (network namespaces on this machine, scripts/lib/netns_hosts.sh):
# wall time, trial-epochs per second, and a check that both runs exported
# the same epochs (docs/cluster.md, "Measured").
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/cluster_hosts.sh [--binary PATH] [--data DIR] [--trials N] [--epochs N]
                              [--train-subset N] [--threads N] [--keep]

Starts a throw-away PostgreSQL server (scripts/lib/throwaway_postgres.sh)
listening on the links of three test hosts, each a network namespace joined
to this one by a veth link. One study on real CIFAR-10 (N trials of lr
between 0.005 and 0.1, momentum 0.9, batch 128, --train-subset images,
1,000 validation images) is registered twice (`lrtune study create --store`,
two databases) and trained:

  1 host   one `lrtune study worker --threads T` on host 1
  3 hosts  one such worker on each of hosts 1, 2 and 3, all at once

Prints a Markdown table (hosts, workers, wall s, trial-epochs/s, speed-up)
and checks that both runs exported the same rows but for the timing columns
(exit 1 if not). The hosts share this machine's cores: with fewer than
3 x T free cores the 3-host run cannot be 3 times faster; the table's
header gives nproc. Needs root (exit 77 otherwise, or without PostgreSQL).

Options:
  --binary PATH      lrtune (default build/lrtune)
  --data DIR         CIFAR-10 folder (default ../shared/data/cifar-10-batches-bin
                     beside the repository)
  --trials N         trials (default 6)
  --epochs N         epochs per trial (default 3)
  --train-subset N   training images (default 2000)
  --threads N        LibTorch threads per worker (default 1)
  --keep             keep the working folder (logs, exports, server log)
  --help             this text
EOF
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
binary=$root/build/lrtune
data=$root/../shared/data/cifar-10-batches-bin
trials=6 epochs=3 train_subset=2000 threads=1 keep=0
while (($#)); do
  case $1 in
    --binary) binary=${2:?--binary needs a path}; shift 2 ;;
    --data) data=${2:?--data needs a folder}; shift 2 ;;
    --trials) trials=${2:?--trials needs a number}; shift 2 ;;
    --epochs) epochs=${2:?--epochs needs a number}; shift 2 ;;
    --train-subset) train_subset=${2:?--train-subset needs a number}; shift 2 ;;
    --threads) threads=${2:?--threads needs a number}; shift 2 ;;
    --keep) keep=1; shift ;;
    --help | -h) usage; exit 0 ;;
    *) echo "cluster_hosts.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
for v in trials epochs train_subset threads; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "cluster_hosts.sh: --${v//_/-}: expected a whole number >= 1" >&2; exit 2; }
done
[[ -x $binary ]] || { echo "cluster_hosts.sh: $binary: no such executable" >&2; exit 2; }
[[ -f $data/data_batch_1.bin ]] || { echo "cluster_hosts.sh: $data: no CIFAR-10 binary files (--data DIR)" >&2; exit 2; }
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
data=$(cd "$data" && pwd)

# shellcheck source=scripts/lib/throwaway_postgres.sh
. "$root/scripts/lib/throwaway_postgres.sh"
# shellcheck source=scripts/lib/netns_hosts.sh
. "$root/scripts/lib/netns_hosts.sh"

say() { echo "cluster_hosts: $*" >&2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/lrtune-hosts-XXXXXX")
chmod 711 "$work"  # the server runs as the postgres user, in $work/pg
cleanup() {
  hosts_remove
  pg_stop
  if ((keep)); then say "working folder kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

hosts_make 3 2>"$work/hosts-why" || { echo "skipped: $(<"$work/hosts-why")"; exit 77; }
pg_start "$work/pg" "${HOST_SERVER_ADDR[@]}" || { echo "skipped: PostgreSQL cannot start"; exit 77; }

lrs=$(python3 -c "n=$trials; print(', '.join('%.4g' % (0.005 * 20 ** (i / max(1, n - 1))) for i in range(n)))")
cat >"$work/hosts.toml" <<EOF
name = "hosts"
description = "bench/cluster_hosts.sh: a tiny real study on 1 and 3 hosts"
[base]
train_subset = $train_subset
val_size = 1000
epochs = $epochs
batch_size = 128
momentum = 0.9
device = "cpu"
seed = 1
[[sweep]]
grid = { lr = [$lrs] }
EOF

# Trains the study in a new database with one worker on each host of $2...;
# prints the wall seconds; the export goes to $work/$1.csv.
run() {
  local name=$1 t0 t1 h pids=() rc=0 url
  shift
  pg_createdb "$name" >/dev/null
  "$binary" study create "$work/hosts.toml" --store "$(pg_url 127.0.0.1 "$name")" >"$work/$name-create.log"
  t0=$(date +%s.%N)
  for h in "$@"; do
    url=$(pg_url "${HOST_SERVER_ADDR[h]}" "$name")
    host_run "$h" "$binary" study worker --store "$url" --study hosts --threads "$threads" \
      --data "$data" --dir "$work/$name-h$h" >"$work/$name-h$h.log" 2>&1 </dev/null &
    pids+=($!)
  done
  for h in "${pids[@]}"; do wait "$h" || rc=$?; done
  t1=$(date +%s.%N)
  ((rc == 0)) || { say "a worker of $name exited $rc (logs in $work)"; keep=1; exit 1; }
  "$binary" study export hosts --store "$(pg_url 127.0.0.1 "$name")" --format csv |
    awk -F, -v OFS=, '{ NF -= 2; print }' >"$work/$name.csv"
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }'
}

say "1 host ($trials trials x $epochs epochs of $train_subset images)"
one=$(run one 1)
say "3 hosts"
three=$(run three 1 2 3)
cmp -s "$work/one.csv" "$work/three.csv" || { say "FAILED: the two runs exported different epochs ($work)"; keep=1; exit 1; }
rows=$(($(wc -l <"$work/one.csv") - 1))

echo "Tiny real study on $(nproc) cores: $trials trials x $epochs epochs of $train_subset images, $threads thread(s) per worker"
echo
echo "| hosts | workers | wall s | trial-epochs/s | speed-up |"
echo "|---|---|---|---|---|"
awk -v r="$rows" -v a="$one" -v b="$three" 'BEGIN {
  printf "| 1 | 1 | %.1f | %.2f | 1.00 |\n", a, r / a
  printf "| 3 | 3 | %.1f | %.2f | %.2f |\n", b, r / b, a / b
}'
echo
echo "check: both runs exported the same $rows epoch rows (timing columns aside)"
