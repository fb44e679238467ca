#!/usr/bin/env python3
"""Accuracy parity: Capstan's GBDT vs LightGBM and Capstan's linear models vs scikit-learn.

Same 80/20 split (seed 42, stratified for classification), same settings (100 trees,
learning rate 0.1, 31 leaves; logistic C=1 / ridge alpha=1 with median imputation, standard
scaling and one-hot encoding). Prints a table of test metrics and whether each pair is
within the tolerance (0.005 AUC, 0.5 % accuracy, 2 % RMSE).

Run: .venv/bin/python scripts/parity.py [--data ../shared/data] [--only adult,letter]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, mean_squared_error, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ROOT = Path(__file__).resolve().parent.parent
SETS = [
    # name, target, task, columns to drop
    ("adult", "income_gt_50k", "binary", []),
    ("bank_marketing", "subscribed", "binary", ["duration"]),
    ("telco_churn", "churn", "binary", []),
    ("letter", "letter", "multiclass", []),
    ("california_housing", "median_house_value", "regression", []),
]
METRIC = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "rmse"}


def capstan_binary():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "capstan-cli"], cwd=ROOT, check=True)
    meta = json.loads(subprocess.check_output(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=ROOT))
    return Path(meta["target_directory"]) / "release" / "capstan"


def within(task, ours, peer):
    if task == "binary":
        return abs(ours - peer) <= 0.005
    if task == "multiclass":
        return abs(ours - peer) <= 0.005  # accuracy is a fraction: 0.5 % = 0.005
    return ours <= peer * 1.02


def score(task, y, pred, classes=None):
    if task == "binary":
        return roc_auc_score(y, pred)
    if task == "multiclass":
        return accuracy_score(y, pred)
    return mean_squared_error(y, pred) ** 0.5


def run_capstan(binary, workdir, model, target, task):
    store = workdir / f"store-{model}"
    bundle = workdir / f"{model}.capstan"
    cmd = [str(binary), "--store", str(store), "train", "--data", str(workdir / "train.csv"),
           "--target", target, "--model", model, "--task", task, "--test-fraction", "0",
           "--seed", "42", "--n-trees", "100", "--learning-rate", "0.1", "--num-leaves", "31",
           "--out", str(bundle), "--json"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    fit_s = time.perf_counter() - t0
    out = subprocess.check_output([str(binary), "--store", str(store), "evaluate", "--model",
                                   str(bundle), "--data", str(workdir / "test.csv"), "--json"])
    return json.loads(out)["metrics"][METRIC[task]], fit_s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    binary = capstan_binary()
    only = set(filter(None, args.only.split(",")))
    rows = []
    for name, target, task, drop in SETS:
        if only and name not in only:
            continue
        df = pd.read_csv(Path(args.data) / name / f"{name}.csv").drop(columns=drop)
        y = df[target]
        train, test = train_test_split(df, test_size=0.2, random_state=42,
                                       stratify=y if task != "regression" else None)
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            train.to_csv(workdir / "train.csv", index=False)
            test.to_csv(workdir / "test.csv", index=False)
            ours_gbdt, t_gbdt = run_capstan(binary, workdir, "gbdt", target, task)
            ours_lin, t_lin = run_capstan(binary, workdir, "linear", target, task)

        x_train, x_test = train.drop(columns=[target]), test.drop(columns=[target])
        cats = [c for c in x_train.columns if x_train[c].dtype == object or str(x_train[c].dtype) in ("str", "string")]
        nums = [c for c in x_train.columns if c not in cats]
        y_train, y_test = train[target], test[target]

        # LightGBM with native categoricals (category codes from the training rows).
        lx_train, lx_test = x_train.copy(), x_test.copy()
        for c in cats:
            dtype = pd.CategoricalDtype(sorted(lx_train[c].dropna().unique()))
            lx_train[c] = lx_train[c].astype(dtype)
            lx_test[c] = lx_test[c].astype(dtype)
        common = dict(n_estimators=100, learning_rate=0.1, num_leaves=31, verbose=-1,
                      random_state=42, n_jobs=2)
        t0 = time.perf_counter()
        if task == "regression":
            m = lgb.LGBMRegressor(**common).fit(lx_train, y_train)
            peer_gbdt = score(task, y_test, m.predict(lx_test))
        else:
            m = lgb.LGBMClassifier(**common).fit(lx_train, y_train)
            pred = m.predict_proba(lx_test)[:, 1] if task == "binary" else m.predict(lx_test)
            peer_gbdt = score(task, y_test, pred)
        t_peer_gbdt = time.perf_counter() - t0

        # scikit-learn linear model with the same preprocessing as capstan's linear pipeline.
        pre = ColumnTransformer([
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), nums),
            ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value="__missing__"),
                                  OneHotEncoder(handle_unknown="ignore")), cats),
        ])
        t0 = time.perf_counter()
        if task == "regression":
            lm = make_pipeline(pre, Ridge(alpha=1.0)).fit(x_train, y_train)
            peer_lin = score(task, y_test, lm.predict(x_test))
        else:
            lm = make_pipeline(pre, LogisticRegression(C=1.0, max_iter=5000, tol=1e-8)).fit(x_train, y_train)
            pred = lm.predict_proba(x_test)[:, 1] if task == "binary" else lm.predict(x_test)
            peer_lin = score(task, y_test, pred)
        t_peer_lin = time.perf_counter() - t0

        metric = METRIC[task]
        rows.append((name, "gbdt vs lightgbm", metric, ours_gbdt, peer_gbdt,
                     within(task, ours_gbdt, peer_gbdt), t_gbdt, t_peer_gbdt))
        rows.append((name, "linear vs sklearn", metric, ours_lin, peer_lin,
                     within(task, ours_lin, peer_lin), t_lin, t_peer_lin))
        print(f"done {name}", file=sys.stderr)

    print("| dataset | comparison | metric | capstan | peer | diff | within tolerance | capstan s (CLI, incl. IO) | peer s (fit) |")
    print("|---|---|---|---:|---:|---:|---|---:|---:|")
    for name, what, metric, ours, peer, ok, t_ours, t_peer in rows:
        print(f"| {name} | {what} | {metric} | {ours:.5f} | {peer:.5f} | {ours - peer:+.5f} | "
              f"{'yes' if ok else 'NO'} | {t_ours:.2f} | {t_peer:.2f} |")
    return 0 if all(r[5] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
