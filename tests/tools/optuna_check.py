"""Loads a study from an Optuna journal file with Optuna itself, prints what
Optuna sees as JSON, and draws Optuna's plots into a folder.

usage: /usr/bin/python3 optuna_check.py JOURNAL STUDY_NAME PLOT_DIR [RDB_FILE]

With RDB_FILE, the study is also copied into an Optuna SQLite RDB with
optuna.copy_study and loaded back from there (the "rdb_trials" count).
Run by tests/report/optuna_test.cpp with Debian's python3-optuna.
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import optuna  # noqa: E402
from optuna.visualization import matplotlib as ovm  # noqa: E402

journal, name, plot_dir = sys.argv[1:4]
rdb = sys.argv[4] if len(sys.argv) > 4 else None
optuna.logging.set_verbosity(optuna.logging.ERROR)
storage = optuna.storages.JournalStorage(optuna.storages.JournalFileStorage(journal))
study = optuna.load_study(study_name=name, storage=storage)

out = {
    "direction": study.direction.name,
    "user_attrs": study.user_attrs,
    "trials": [
        {
            "number": t.number,
            "state": t.state.name,
            "value": t.value,
            "params": t.params,
            "distributions": {k: type(d).__name__ for k, d in t.distributions.items()},
            "distribution_json": {
                k: json.loads(optuna.distributions.distribution_to_json(d))
                for k, d in t.distributions.items()
            },
            "intermediate": {str(k): v for k, v in sorted(t.intermediate_values.items())},
            "user_attrs": t.user_attrs,
        }
        for t in study.trials
    ],
    "plots": [],
}
complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
if complete:
    out["best_value"] = study.best_value
    out["best_params"] = study.best_params
# Which parameters mattered, by Optuna's default evaluator (fANOVA); a study
# too small for it records why instead.
try:
    out["importances"] = optuna.importance.get_param_importances(study)
except Exception as e:  # noqa: BLE001
    out["importances_error"] = f"{type(e).__name__}: {e}"
plots = {
    "optimization_history": ovm.plot_optimization_history,
    "intermediate_values": ovm.plot_intermediate_values,
    "param_importances": ovm.plot_param_importances,
}
for plot_name, plot in plots.items():
    axes = plot(study)
    path = os.path.join(plot_dir, plot_name + ".png")
    axes.figure.savefig(path, bbox_inches="tight")
    plt.close(axes.figure)
    out["plots"].append(path)
if rdb:
    url = "sqlite:///" + rdb
    optuna.copy_study(from_study_name=name, from_storage=storage, to_storage=url)
    out["rdb_trials"] = len(optuna.load_study(study_name=name, storage=url).trials)
print(json.dumps(out))
