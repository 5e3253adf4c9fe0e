#!/usr/bin/env python3
"""The tables of bench/search.sh: grid against random and TPE search, with and
without ASHA pruning, on one space. Standard library only.

    bench/search_table.py MANIFEST

MANIFEST is tab-separated, one line per run of `lrtune study run`:

    method  seed  csv  wall_s  expected_trials

where csv is that run's `lrtune study export DIR --format csv`. For each run
the best validation accuracy of any epoch of any trial (done, diverged or
pruned), the test accuracy of that trial at that epoch (chosen by
validation, never by test), the trials and how many were pruned, the
trial-epochs (export rows) and the wall time. Then per method the median and
min-max over seeds, and the two goal checks: TPE+ASHA's best validation
accuracy within 1 point of the grid's, and its trial-epochs at most a third
of the grid's.

Writes Markdown to standard output. Exits 1, with the reason on standard
error, when a run's export is missing or empty, holds a trial that did not
end (failed, pending, running, stopped), or holds another number of trials
than expected.
"""
import csv
import math
import statistics
import sys

METHODS = ["grid", "random", "tpe", "random+asha", "tpe+asha", "tpe+hyperband"]
ENDED = {"done", "diverged", "pruned"}
WITHIN_POINTS = 1.0  # TPE+ASHA's best val acc at most this far below the grid's
EPOCH_SHARE = 1 / 3  # TPE+ASHA's trial-epochs at most this share of the grid's


class BenchError(Exception):
    pass


def number(text):
    """A float from an export cell; None for empty or non-finite ('nan')."""
    try:
        x = float(text)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def read_run(method, seed, path, wall_s, expected):
    """One run's figures from its export (see the module text)."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise BenchError(f"{method} seed {seed}: cannot read its export {path}: {e.strerror}")
    if not rows:
        raise BenchError(f"{method} seed {seed}: its export {path} has no rows (no epoch trained)")
    for col in ("trial_id", "label", "status", "epoch", "val_acc", "test_acc"):
        if col not in rows[0]:
            raise BenchError(f"{method} seed {seed}: {path} has no column '{col}'")
    status = {}
    best = None  # (val, test, label, epoch)
    for r in rows:
        status[r["trial_id"]] = r["status"]
        val = number(r["val_acc"])
        if val is not None and (best is None or val > best[0]):
            best = (val, number(r["test_acc"]), r["label"], int(r["epoch"]))
    unended = sorted({s for s in status.values() if s not in ENDED})
    if unended:
        raise BenchError(f"{method} seed {seed}: trials left {', '.join(unended)}, not done, "
                         f"diverged or pruned (see the run's log; {path})")
    if len(status) != expected:
        raise BenchError(f"{method} seed {seed}: {len(status)} trials with epochs, expected "
                         f"{expected} ({path})")
    return {"method": method, "seed": seed, "best": best, "trials": len(status),
            "pruned": sum(s == "pruned" for s in status.values()),
            "trial_epochs": len(rows), "wall_s": wall_s}


def read_manifest(path):
    runs = []
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            method, seed, csv_path, wall_s, expected = line.rstrip("\n").split("\t")
            if method not in METHODS:
                raise BenchError(f"{path}: unknown method '{method}'")
            runs.append(read_run(method, int(seed), csv_path, float(wall_s), int(expected)))
    if not runs:
        raise BenchError(f"{path}: no runs")
    return runs


def pct(x):
    return "–" if x is None else f"{100 * x:.2f}"


def spread(values, fmt):
    """'median (min–max)', or the value alone for one run."""
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    if len(values) == 1:
        return fmt(values[0])
    return f"{fmt(statistics.median(values))} ({fmt(min(values))}–{fmt(max(values))})"


def run_table(runs):
    out = ["| method | seed | best val acc % | test acc % there | best trial, epoch | trials (pruned) "
           "| trial-epochs | wall s |",
           "|---|---|---|---|---|---|---|---|"]
    for r in runs:
        val, test, label, epoch = r["best"] or (None, None, "–", "–")
        out.append(f"| {r['method']} | {r['seed']} | {pct(val)} | {pct(test)} | {label}, {epoch} "
                   f"| {r['trials']} ({r['pruned']}) | {r['trial_epochs']} | {r['wall_s']:.0f} |")
    return out


def grid_for(runs, seed):
    """The grid run that goes with `seed`: its own, or the single grid run."""
    grids = [r for r in runs if r["method"] == "grid"]
    same = [r for r in grids if r["seed"] == seed]
    return same[0] if same else (grids[0] if len(grids) == 1 else None)


def method_table(runs):
    out = ["| method | runs | best val acc % | test acc % there | trial-epochs | trial-epochs / grid's "
           "| wall s |",
           "|---|---|---|---|---|---|---|"]
    for m in METHODS:
        mine = [r for r in runs if r["method"] == m]
        if not mine:
            continue
        share = []
        for r in mine:
            g = grid_for(runs, r["seed"])
            share.append(r["trial_epochs"] / g["trial_epochs"] if g else None)
        out.append("| {} | {} | {} | {} | {} | {} | {} |".format(
            m, len(mine),
            spread([r["best"] and r["best"][0] for r in mine], pct),
            spread([r["best"] and r["best"][1] for r in mine], pct),
            spread([r["trial_epochs"] for r in mine], lambda x: f"{x:.0f}"),
            spread(share, lambda x: f"{x:.2f}"),
            spread([r["wall_s"] for r in mine], lambda x: f"{x:.0f}")))
    return out


def goal_checks(runs):
    pairs = [(r, grid_for(runs, r["seed"])) for r in runs if r["method"] == "tpe+asha"]
    pairs = [(r, g) for r, g in pairs if g and r["best"] and g["best"]]
    if not pairs:
        return ["Goal checks: need a grid run and a TPE+ASHA run with finite accuracies."]
    verdict = lambda ok: "**pass**" if ok else "**FAIL**"
    diffs = [100 * (r["best"][0] - g["best"][0]) for r, g in pairs]
    shares = [r["trial_epochs"] / g["trial_epochs"] for r, g in pairs]
    tpe_val = statistics.median(r["best"][0] for r, _ in pairs)
    grid_val = statistics.median(g["best"][0] for _, g in pairs)
    tpe_epochs = statistics.median(r["trial_epochs"] for r, _ in pairs)
    grid_epochs = statistics.median(g["trial_epochs"] for _, g in pairs)
    seeds = ", ".join(str(r["seed"]) for r, _ in pairs)
    near = sum(d >= -WITHIN_POINTS for d in diffs)
    few = sum(s <= EPOCH_SHARE for s in shares)
    return [
        f"- TPE+ASHA best val acc within {WITHIN_POINTS:g} point of the grid's: "
        f"{verdict(statistics.median(diffs) >= -WITHIN_POINTS)}: median {pct(tpe_val)} against "
        f"the grid's {pct(grid_val)}, median difference {statistics.median(diffs):+.2f} points; "
        f"per seed ({seeds}) " + ", ".join(f"{d:+.2f}" for d in diffs) +
        f" ({near} of {len(diffs)} within)",
        f"- TPE+ASHA trial-epochs at most a third of the grid's: "
        f"{verdict(statistics.median(shares) <= EPOCH_SHARE)}: median {tpe_epochs:.0f} against the "
        f"grid's {grid_epochs:.0f}, median share {statistics.median(shares):.2f}; per seed "
        + ", ".join(f"{s:.2f}" for s in shares) + f" ({few} of {len(shares)} at most 0.33)",
    ]


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(sys.argv) == 2 else 2
    try:
        runs = read_manifest(sys.argv[1])
    except BenchError as e:
        print(f"search_table.py: {e}", file=sys.stderr)
        return 1
    lines = ["### Each run", ""] + run_table(runs) + ["", "### Per method (median, min–max over seeds)",
                                                        ""] + method_table(runs)
    lines += ["", "### Goal checks (on the medians over seeds)", ""] + goal_checks(runs)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
