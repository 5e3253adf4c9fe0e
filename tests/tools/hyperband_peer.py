"""The peer of tests/search/hyperband_test.cpp: replays a study's learning
curves through Optuna's own HyperbandPruner and prints, as JSON, which bracket
each trial falls in and where Optuna prunes it.

usage: /usr/bin/python3 hyperband_peer.py STUDY.json [--events]

STUDY.json:
  {
    "study_name": "s",             # the name Optuna hashes (crc32 of "<name>_<number>")
    "min_resource": 1,
    "max_resource": 9,             # an int, or "auto"
    "reduction_factor": 3,
    "bootstrap_count": 0,          # optional, default 0
    "direction": "minimize",       # or "maximize"
    "step_base": 1,                # optional: epoch e is reported as step e (1, default,
                                   # lrtune's convention) or e - 1 (0, Optuna's examples)
    "order": "sequential",         # optional, see below
    "trials": [
      {"number": 0, "values": [v_epoch1, v_epoch2, ...], "state": "complete"},
      {"number": 1, "values": [...], "state": "running"},   # or "fail"
      ...
    ]
  }
  A value may be null, NaN or "nan" (a diverged epoch: NaN).

The replay uses Optuna's real objects only: optuna.create_study (in-memory
storage, RandomSampler(seed=0); no parameter is suggested) with
pruner=HyperbandPruner(min_resource, max_resource, reduction_factor,
bootstrap_count); trials come from study.ask() in number order (a gap in the
numbers is filled by a trial told FAIL at once, with no reports, which no
pruner decision looks at), so Optuna's trial.number is the given number.

An "event" is: trial T reports its next epoch e (trial.report(value, step))
and then asks trial.should_prune(). On True the trial is told PRUNED at once
and its later epochs are never reported. When a trial has reported all its
values without being pruned, it is told at once: "complete" ->
study.tell(trial, last value) (Optuna makes a NaN last value FAIL), "fail" ->
TrialState.FAIL, "running" -> left RUNNING (never told).

"order" picks the sequence of events:
  "sequential"  (default) trials in number order; each reports all its
                epochs in turn (and is told) before the next trial starts.
  "interleaved" epoch by epoch: epoch 1 of every trial in number order, then
                epoch 2 of every trial still going, ...; a trial is told
                right after its own last epoch.
  [n0, n1, ...] an explicit list of trial numbers, each entry meaning "that
                trial reports its next epoch"; entries for a pruned or
                exhausted trial are skipped. A trial with epochs left after
                the list stays as it is (RUNNING, not told): list every epoch
                you want replayed.

Output (stdout), JSON:
  {"optuna_version", "order", "step_base", "n_brackets",
   "trial_allocation_budgets": [per bracket], "total_budget",
   "trials": [{"number", "bracket", "crc32", "state" (Optuna's final state),
               "reported_epochs", "pruned_at_epoch" (null if never pruned),
               "pruned_at_step", "rungs": {"0": value, ...} (the
               completed_rung_k system attributes Optuna stored)}],
   "events": [{"trial", "epoch", "step", "value", "prune"}]   (with --events)}
"bracket" is the pruner's own private _get_bracket_id(study, trial); it is
null while the pruner is not initialized (max_resource "auto" with no
COMPLETE trial yet). "crc32" is binascii.crc32(b"<study_name>_<number>"),
given for checking a reimplementation's hash.
"""
import binascii
import json
import math
import sys
import warnings

try:
    import optuna
    from optuna.trial import TrialState
except ImportError as e:  # pragma: no cover
    sys.stderr.write(f"optuna is not importable with {sys.executable}: {e}\n")
    sys.exit(2)


def as_float(v):
    if v is None:
        return math.nan
    if isinstance(v, str):
        if v.lower() in ("nan", "-nan"):
            return math.nan
        return float(v)  # "inf", "-inf", numbers in strings
    return float(v)


def json_value(v):
    # JSON has no NaN/inf: write them as strings.
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return str(v)
    return v


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    with_events = "--events" in argv[2:]
    with open(argv[1]) as f:
        spec = json.load(f)

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    # study.tell(trial, nan) warns "The value nan is not acceptable." (and fails the trial).
    warnings.filterwarnings("ignore", category=UserWarning, module=r"optuna\.")
    max_resource = spec["max_resource"]
    if not (max_resource == "auto" or isinstance(max_resource, int)):
        raise ValueError("max_resource must be an int or \"auto\"")
    pruner = optuna.pruners.HyperbandPruner(
        min_resource=int(spec["min_resource"]),
        max_resource=max_resource,
        reduction_factor=int(spec["reduction_factor"]),
        bootstrap_count=int(spec.get("bootstrap_count", 0)),
    )
    study = optuna.create_study(
        study_name=spec["study_name"],
        direction=spec.get("direction", "minimize"),
        sampler=optuna.samplers.RandomSampler(seed=0),
        pruner=pruner,
    )
    step_base = int(spec.get("step_base", 1))
    if step_base not in (0, 1):
        raise ValueError("step_base must be 0 or 1")

    given = {}
    for t in spec["trials"]:
        n = int(t["number"])
        if n < 0 or n in given:
            raise ValueError(f"trial number {n} is negative or repeated")
        state = t.get("state", "complete")
        if state not in ("complete", "running", "fail"):
            raise ValueError(f"trial {n}: state {state!r}")
        given[n] = {"values": [as_float(v) for v in t.get("values", [])], "state": state}

    # Ask every trial up front, in number order, so that trial.number matches.
    live = {}
    for n in range(max(given) + 1 if given else 0):
        trial = study.ask()
        assert trial.number == n
        if n in given:
            live[n] = {"trial": trial, "next": 0, "pruned_at": None, "told": False, **given[n]}
        else:
            study.tell(trial, state=TrialState.FAIL)

    events = []

    def finish(n):
        s = live[n]
        if s["told"]:
            return
        if s["state"] == "complete":
            last = s["values"][-1] if s["values"] else math.nan
            study.tell(s["trial"], last)  # Optuna turns a NaN value into FAIL
            s["told"] = True
        elif s["state"] == "fail":
            study.tell(s["trial"], state=TrialState.FAIL)
            s["told"] = True

    def step_once(n):
        """Trial n reports its next epoch and asks should_prune. False if it had none left."""
        s = live[n]
        if s["told"] or s["next"] >= len(s["values"]):
            return False
        epoch = s["next"] + 1
        step = epoch - 1 + step_base
        value = s["values"][s["next"]]
        s["trial"].report(value, step)
        s["next"] += 1
        prune = s["trial"].should_prune()
        events.append({"trial": n, "epoch": epoch, "step": step, "value": json_value(value), "prune": prune})
        if prune:
            s["pruned_at"] = epoch
            study.tell(s["trial"], state=TrialState.PRUNED)
            s["told"] = True
        elif s["next"] == len(s["values"]):
            finish(n)
        return True

    order = spec.get("order", "sequential")
    numbers = sorted(live)
    if order == "sequential":
        for n in numbers:
            while step_once(n):
                pass
            finish(n)  # a trial with no values at all
    elif order == "interleaved":
        longest = max((len(live[n]["values"]) for n in numbers), default=0)
        for _ in range(longest):
            for n in numbers:
                step_once(n)
        for n in numbers:
            if not live[n]["values"]:
                finish(n)
    elif isinstance(order, list):
        for n in order:
            if int(n) not in live:
                raise ValueError(f"order names trial {n}, which is not given")
            step_once(int(n))
        for n in numbers:
            if not live[n]["values"]:
                finish(n)
    else:
        raise ValueError(f"order {order!r}")

    # A fixed max_resource initializes the pruner on its first prune() call;
    # do it here too in case nothing was ever reported.
    if not pruner._pruners and pruner._max_resource != "auto":
        pruner._try_initialization(study)
    initialized = bool(pruner._pruners)

    frozen = {t.number: t for t in study.get_trials(deepcopy=False)}
    out_trials = []
    for n in numbers:
        s = live[n]
        ft = frozen[n]
        rungs = {}
        k = 0
        while f"completed_rung_{k}" in ft.system_attrs:
            rungs[str(k)] = json_value(ft.system_attrs[f"completed_rung_{k}"])
            k += 1
        out_trials.append(
            {
                "number": n,
                "bracket": pruner._get_bracket_id(study, ft) if initialized else None,
                "crc32": binascii.crc32(f"{study.study_name}_{n}".encode()),
                "state": ft.state.name,
                "reported_epochs": s["next"],
                "pruned_at_epoch": s["pruned_at"],
                "pruned_at_step": None if s["pruned_at"] is None else s["pruned_at"] - 1 + step_base,
                "rungs": rungs,
            }
        )

    out = {
        "optuna_version": optuna.__version__,
        "order": order,
        "step_base": step_base,
        "max_resource": pruner._max_resource,
        "n_brackets": pruner._n_brackets,
        "trial_allocation_budgets": list(pruner._trial_allocation_budgets),
        "total_budget": pruner._total_trial_allocation_budget,
        "trials": out_trials,
    }
    if with_events:
        out["events"] = events
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
