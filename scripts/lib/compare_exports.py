#!/usr/bin/env python3
"""Compares a study's CSV export (`lrtune study export --format csv`) with a
reference export of the same study, for the fault test scripts (chaos.sh,
cluster_faults.sh, slurm_test.sh): were epochs lost, duplicated or added, did
any value differ, did any trial end otherwise than in the reference?

usage: compare_exports.py REFERENCE RUN [--prefix TEXT] [--notes-to-stdout]

Prints one line of counts:

    trials rows lost dup extra diff status notdone

  trials   trials in RUN          rows    epoch rows in RUN
  lost     reference rows missing from RUN
  dup      RUN rows whose (trial_id, epoch) came before
  extra    RUN rows the reference does not have
  diff     rows whose values differ (speed columns and status ignored)
  status   reference trials whose status in RUN differs (or that RUN lacks)
  notdone  trials of either file whose status is not "done"

then up to 20 notes, one per problem, each after --prefix: on standard error,
or on standard output after the counts with --notes-to-stdout. Exits 0
whatever it finds (the caller decides what fails); 2 for bad arguments."""
import argparse
import csv
import sys

# Columns not compared row by row: how fast (not what was computed), and the
# trial's status, which is compared once per trial.
IGNORED = {"seconds", "images_per_s", "status"}
MAX_NOTES = 20


def load(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def key(row):
    return (row["trial_id"], row["epoch"])


def compare_rows(ref_by, run, notes):
    """Returns (seen, dup, extra, diff), noting each problem."""
    seen, dup, extra, diff = {}, 0, 0, 0
    for r in run:
        k = key(r)
        if k in seen:
            dup += 1
            notes.append(f"duplicated: trial {k[0]} epoch {k[1]}")
            continue
        seen[k] = r
        a = ref_by.get(k)
        if a is None:
            extra += 1
            notes.append(f"extra: trial {k[0]} epoch {k[1]}")
            continue
        cols = [c for c in sorted(set(a) | set(r)) if c not in IGNORED and a.get(c) != r.get(c)]
        if cols:
            diff += 1
            notes.append(f"differs: trial {k[0]} ({a.get('label')}) epoch {k[1]}: " +
                         ", ".join(f"{c} {a.get(c)} vs {r.get(c)}" for c in cols))
    return seen, dup, extra, diff


def compare(ref, run):
    """Returns the counts line's numbers and the notes."""
    notes = []
    ref_by = {key(r): r for r in ref}
    seen, dup, extra, diff = compare_rows(ref_by, run, notes)
    lost = [k for k in ref_by if k not in seen]
    notes += [f"lost: trial {k[0]} epoch {k[1]}" for k in lost]
    ref_status = {r["trial_id"]: r["status"] for r in ref}
    run_status = {r["trial_id"]: r["status"] for r in run}
    status = 0
    for t, s in ref_status.items():
        if run_status.get(t) != s:
            status += 1
            found = run_status.get(t, "missing from the export")
            notes.append(f"status: trial {t} is {found}, {s} in the reference")
    notdone = 0
    for what, statuses in (("reference", ref_status), ("run", run_status)):
        for t, s in sorted(statuses.items()):
            if s != "done":
                notdone += 1
                notes.append(f"not done: trial {t} is {s} in the {what}")
    counts = [len(run_status), len(run), len(lost), dup, extra, diff, status, notdone]
    return counts, notes


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reference")
    parser.add_argument("run")
    parser.add_argument("--prefix", default="", help="text before each note")
    parser.add_argument("--notes-to-stdout", action="store_true",
                        help="print the notes after the counts, on standard output")
    args = parser.parse_args()
    counts, notes = compare(load(args.reference), load(args.run))
    shown = [args.prefix + n for n in notes[:MAX_NOTES]]
    if len(notes) > MAX_NOTES:
        shown.append(f"{args.prefix}... and {len(notes) - MAX_NOTES} more")
    print(" ".join(str(c) for c in counts), flush=True)
    for line in shown:
        if args.notes_to_stdout:
            print(line)
        else:
            print(line, file=sys.stderr)


if __name__ == "__main__":
    main()
