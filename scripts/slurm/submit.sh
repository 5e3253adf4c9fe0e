#!/usr/bin/env bash
# Registers a study in the PostgreSQL database of $LRTUNE_STORE and submits N
# workers for it as one Slurm job array (lrtune-workers.sbatch; docs/cluster.md).
#
#   export LRTUNE_STORE=postgresql://lrtune@db-host:5432/lrtune
#   scripts/slurm/submit.sh studies/reference/part1-lr.toml 8
#   scripts/slurm/submit.sh study.toml 4 --partition=gpu --gres=gpu:1 -- --device cuda --pack 32
#
# Arguments after N go to sbatch, those after `--` to `lrtune study worker`.
# $LRTUNE_BIN names the lrtune program (default `lrtune` on PATH); the jobs
# run the same one. Prints `lrtune study create`'s lines, then sbatch's.
set -euo pipefail

if (($# < 2)) || [[ ! $2 =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/slurm/submit.sh STUDY_FILE N [sbatch options...] [-- worker flags...]" >&2
  exit 2
fi
file=$1 n=$2
shift 2
sbatch_options=()
while (($#)) && [[ $1 != -- ]]; do sbatch_options+=("$1"); shift; done
(($#)) && shift  # the `--`
: "${LRTUNE_STORE:?submit.sh: set LRTUNE_STORE to the study database, e.g. postgresql://lrtune@db-host:5432/lrtune}"
export LRTUNE_BIN=${LRTUNE_BIN:-lrtune}

# "study NAME (FILE) registered in ...": the name the workers join.
created=$("$LRTUNE_BIN" study create "$file")
echo "$created"
name=$(sed -n '1s/^study \([^ ]*\) .*/\1/p' <<<"$created")
[[ -n $name ]] || { echo "submit.sh: no study name in lrtune study create's output" >&2; exit 1; }

sbatch --array="1-$n" "${sbatch_options[@]}" "$(dirname "${BASH_SOURCE[0]}")/lrtune-workers.sbatch" "$name" "$@"
