"""The peer of tests/search/importance_test.cpp: Optuna's own parameter
importances (get_param_importances, its default fANOVA evaluator) for trials
given as JSON, printed as JSON {key: importance}.

usage: /usr/bin/python3 importance_peer.py STUDY.json

STUDY.json: {"space": {KEY: {"low": L, "high": H, "log": BOOL} or
                            {"choices": [...]}},
             "trials": [{"values": {KEY: VALUE, ...}, "objective": Y}, ...]}
"""
import json
import sys

import optuna


def distribution(d):
    if "choices" in d:
        return optuna.distributions.CategoricalDistribution(d["choices"])
    return optuna.distributions.FloatDistribution(d["low"], d["high"], log=d.get("log", False))


def main(path):
    with open(path) as f:
        spec = json.load(f)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    dists = {k: distribution(d) for k, d in spec["space"].items()}
    study = optuna.create_study(direction="minimize")
    for t in spec["trials"]:
        study.add_trial(optuna.trial.create_trial(params=t["values"], distributions=dists,
                                                  value=t["objective"]))
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
    importances = optuna.importance.get_param_importances(study, evaluator=evaluator)
    json.dump({k: float(v) for k, v in importances.items()}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
