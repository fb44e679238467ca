#!/usr/bin/env python3
"""GBDT benchmark: Capstan vs LightGBM (and XGBoost hist) side by side, one command (issue 3).

    .venv/bin/python scripts/bench_gbdt.py [--rows 1000000] [--sets higgs,adult,letter,california]
                                           [--leaves 31,255] [--threads 2] [--repeat 1]
    .venv/bin/python scripts/bench_gbdt.py --rows 10000000 --sets higgs --leaves 255   # 10M scale
                                                  # (capstan only by default from 5M rows)

XGBoost is optional: `.venv/bin/pip install xgboost` (or the smaller `xgboost-cpu`); without it
the XGBoost rows are skipped. Not run in CI; it reports and always exits 0 (it does not assert).

Data (written to bench/out/, gitignored; reused when present):
  higgs       ../shared/data/make_synth.py --kind binary --seed 42 (28 float32 features),
              Parquet with snappy (capstan-frame has no zstd). The first --rows rows train;
              the next min(rows/4, 500k) rows (same generator, disjoint) are the test set.
  adult, letter, california
              80/20 split of ../shared/data/<set>/<set>.csv (sklearn train_test_split,
              random_state 42, stratified for classification, as scripts/parity.py).
              String columns (adult's 8 categoricals, california's ocean_proximity) become
              integer codes (sorted categories over the whole file; missing -> null) and every
              engine is told they are categorical (capstan --categorical, LightGBM
              categorical_feature, XGBoost enable_categorical). letter's class letters become
              indices 0..25 (sorted).

Engines, each in its own subprocess (so peak memory is per engine), same data files:
  capstan     target/release/capstan-bench-gbdt (built here with cargo build --release)
  lightgbm    lgb.train: max_bin 255, learning_rate 0.1, 100 rounds, num_leaves,
              num_threads, min_data_in_leaf 20, verbose -1 (its other defaults)
  xgboost     xgb.train: tree_method hist, max_bin 256, grow_policy lossguide, max_leaves,
              max_depth 0, eta 0.1, nthread (other defaults, e.g. min_child_weight 1)
OMP_WAIT_POLICY=PASSIVE and OMP_NUM_THREADS=--threads are set for every engine process.

Measured per engine: fit seconds (LightGBM: Dataset construction + train, since Dataset
construction is lazy and binning is part of Capstan's fit too; XGBoost: DMatrix + train),
batch prediction on the test rows (best of --repeat), "peak MB" = peak RSS while fitting
and predicting (the loaded data and the interpreter included; VmHWM from /proc/self/status,
reset through /proc/self/clear_refs just before the fit), "train +MB" = that peak minus the
RSS just before fitting (what the engine added to hold its training state), "process peak
MB" = the whole process's peak, loading included (VmHWM; ru_maxrss is not used because on
Linux it carries the parent's peak across execve), and the test metric (binary ROC AUC,
multiclass accuracy, regression RMSE). Ratio rows compare Capstan with LightGBM against the
issue 3 acceptance targets: fit <= 0.67x on Higgs with 255 leaves and <= 1.0x elsewhere,
predict throughput >= 3x, peak memory <= 1x, metric within 0.001 AUC / 0.2 % accuracy /
0.5 % RMSE. Raw results go to bench/out/results-<time>.json.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DATA = ROOT.parent / "shared" / "data"

# set name -> (csv dir/name, target, task)
REAL_SETS = {
    "adult": ("adult", "income_gt_50k", "binary"),
    "letter": ("letter", "letter", "multiclass"),
    "california": ("california_housing", "median_house_value", "regression"),
}
ALL_ENGINES = ["capstan", "lightgbm", "xgboost"]


# ----------------------------------------------------------------------------- data prep


def write_parquet(df, path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path, compression="snappy")


def prepare_higgs(rows, data_dir):
    """Train = first `rows` rows, test = the next min(rows // 4, 500k) rows."""
    import pyarrow.parquet as pq

    n_test = min(max(rows // 4, 1), 500_000)
    train = OUT / f"higgs_{rows}_train.parquet"
    test = OUT / f"higgs_{rows}_test.parquet"
    if not (train.exists() and test.exists()):
        total = rows + n_test
        stem = f"higgs_like_{total}_s42"
        full = OUT / f"{stem}.parquet"
        if not full.exists():
            cmd = [sys.executable, str(data_dir / "make_synth.py"), "--kind", "binary",
                   "--rows", str(total), "--seed", "42", "--format", "parquet",
                   "--compression", "snappy", "--out", str(OUT), "--name", stem]
            print("+", " ".join(cmd), file=sys.stderr, flush=True)
            subprocess.run(cmd, check=True, stdout=sys.stderr)
        tbl = pq.read_table(full)
        pq.write_table(tbl.slice(0, rows), train, compression="snappy", row_group_size=250_000)
        pq.write_table(tbl.slice(rows, n_test), test, compression="snappy",
                       row_group_size=250_000)
        del tbl
        full.unlink()
    return dict(train=train, test=test, target="label", task="binary", categorical=[],
                rows_train=rows, rows_test=n_test)


def prepare_real(name, data_dir):
    import pandas as pd
    from sklearn.model_selection import train_test_split

    folder, target, task = REAL_SETS[name]
    meta = json.loads((data_dir / folder / "META.json").read_text())
    df = pd.read_csv(data_dir / folder / f"{folder}.csv")
    cats = [c for c in df.columns if c != target and not pd.api.types.is_numeric_dtype(df[c])]
    if set(cats) != set(meta.get("categorical_columns", [])):
        raise ValueError(f"{name}: text columns {cats} differ from META.json's categorical "
                         f"columns {meta.get('categorical_columns')}")
    for c in cats:  # integer codes over the whole file, sorted categories; missing -> NaN
        codes = pd.Categorical(df[c]).codes.astype("float64")
        codes[codes < 0] = np.nan
        df[c] = codes
    if task == "multiclass":
        df[target] = pd.Categorical(df[target]).codes.astype("int64")
    train_df, test_df = train_test_split(
        df, test_size=0.2, random_state=42,
        stratify=df[target] if task != "regression" else None)
    train = OUT / f"{name}_train.parquet"
    test = OUT / f"{name}_test.parquet"
    write_parquet(train_df, train)
    write_parquet(test_df, test)
    return dict(train=train, test=test, target=target, task=task, categorical=cats,
                rows_train=len(train_df), rows_test=len(test_df))


# ----------------------------------------------------------------------------- workers


def proc_status_mb(key):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def peak_rss_mb():
    """This process's peak RSS. VmHWM where /proc exists: on Linux ru_maxrss survives execve,
    so a child started by a large parent would report the parent's peak; VmHWM starts afresh
    with the new program. Elsewhere ru_maxrss (KiB on Linux, bytes on macOS)."""
    hwm = proc_status_mb("VmHWM:")
    if hwm is not None:
        return hwm
    scale = 1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def load_xy(path, target):
    import pyarrow as pa
    import pyarrow.parquet as pq

    tbl = pq.read_table(path)
    names = [c for c in tbl.column_names if c != target]
    all_f32 = all(tbl.schema.field(c).type == pa.float32() for c in names)
    X = np.empty((tbl.num_rows, len(names)), dtype=np.float32 if all_f32 else np.float64)
    for j, c in enumerate(names):
        col = tbl.column(c)
        if col.null_count:
            col = col.cast(pa.float64()).fill_null(np.nan)
        X[:, j] = col.to_numpy()
    y = tbl.column(target).to_numpy().astype(np.float64)
    del tbl
    return X, y, names


def auc(y, p):
    """ROC AUC with ties counted as half (sklearn's), numpy only."""
    order = np.argsort(p, kind="mergesort")
    _, inv, counts = np.unique(p[order], return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    avg = (ends - counts + 1 + ends) / 2.0
    ranks = np.empty(len(p))
    ranks[order] = avg[inv]
    pos = y == 1
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def metric(task, y, pred):
    if task == "binary":
        return "roc_auc", auc(y, pred)
    if task == "multiclass":
        return "accuracy", float(np.mean(np.argmax(pred, axis=1) == y))
    return "rmse", float(np.sqrt(np.mean((pred - y) ** 2)))


def worker(a):
    """One engine, one data set, in this process; prints one JSON line."""
    X, y, names = load_xy(a.train, a.target)
    Xt, yt, _ = load_xy(a.test, a.target)
    cats = [c for c in a.categorical.split(",") if c]
    n_classes = int(max(y.max(), yt.max())) + 1 if a.task == "multiclass" else 1

    if a.worker == "lightgbm":
        import lightgbm as lgb

        version = lgb.__version__
        objective = {"binary": "binary", "multiclass": "multiclass",
                     "regression": "regression"}[a.task]
        params = dict(objective=objective, max_bin=255, learning_rate=a.learning_rate,
                      num_leaves=a.leaves, num_threads=a.threads, min_data_in_leaf=20,
                      verbose=-1, seed=0)
        if a.task == "multiclass":
            params["num_class"] = n_classes

        def fit():
            ds = lgb.Dataset(X, label=y, feature_name=names,
                             categorical_feature=cats if cats else "auto", free_raw_data=True)
            return lgb.train(params, ds, num_boost_round=a.n_trees)

        def predict(bst):
            return bst.predict(Xt, num_threads=a.threads)

        def n_trees(bst):
            return bst.num_trees()
    elif a.worker == "xgboost":
        import xgboost as xgb

        version = xgb.__version__
        objective = {"binary": "binary:logistic", "multiclass": "multi:softprob",
                     "regression": "reg:squarederror"}[a.task]
        params = dict(objective=objective, tree_method="hist", max_bin=256,
                      grow_policy="lossguide", max_leaves=a.leaves, max_depth=0,
                      eta=a.learning_rate, nthread=a.threads, verbosity=0, seed=0)
        if a.task == "multiclass":
            params["num_class"] = n_classes
        types = ["c" if n in cats else "q" for n in names]

        def dmatrix(data, label=None):
            return xgb.DMatrix(data, label=label, feature_names=names, feature_types=types,
                               enable_categorical=bool(cats), nthread=a.threads)

        def fit():
            return xgb.train(params, dmatrix(X, y), num_boost_round=a.n_trees)

        def predict(bst):
            if cats:  # categorical columns need the DMatrix's feature types
                return bst.predict(dmatrix(Xt))
            return bst.inplace_predict(Xt)

        def n_trees(bst):
            return bst.num_boosted_rounds() * (n_classes if a.task == "multiclass" else 1)
    else:
        raise SystemExit(f"unknown worker {a.worker}")

    load_peak = peak_rss_mb()
    rss_before = proc_status_mb("VmRSS:")
    try:  # reset VmHWM so the fit-phase peak can be read apart from loading
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        hwm_reset = True
    except OSError:
        hwm_reset = False
    fit_times, predict_times = [], []
    bst = None
    for _ in range(a.repeat):
        bst = None
        t = time.perf_counter()
        bst = fit()
        fit_times.append(time.perf_counter() - t)
    pred = None
    for _ in range(a.repeat):
        t = time.perf_counter()
        pred = predict(bst)
        predict_times.append(time.perf_counter() - t)
    fit_peak = proc_status_mb("VmHWM:") if hwm_reset else None
    pred = np.asarray(pred)
    if a.task == "multiclass":
        pred = pred.reshape(len(yt), n_classes)
    name, value = metric(a.task, yt, pred)
    print(json.dumps(dict(
        engine=a.worker, version=version, fit_s=min(fit_times), fit_s_all=fit_times,
        predict_s=min(predict_times), predict_s_all=predict_times,
        predict_rows_per_s=len(yt) / max(min(predict_times), 1e-12),
        metric_name=name, metric=value, n_trees=n_trees(bst),
        peak_rss_mb=max(load_peak, peak_rss_mb()), fit_peak_rss_mb=fit_peak,
        rss_before_fit_mb=rss_before, rows_train=len(y), rows_test=len(yt),
        n_features=X.shape[1], threads=a.threads, task=a.task)))


# ----------------------------------------------------------------------------- driver


def build_capstan():
    cmd = ["cargo", "build", "--release", "-p", "capstan-bench"]
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)
    meta = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                          cwd=ROOT, check=True, capture_output=True, text=True)
    return Path(json.loads(meta.stdout)["target_directory"]) / "release" / "capstan-bench-gbdt"


def run_engine(engine, ds, leaves, a, capstan_bin):
    common = ["--train", str(ds["train"]), "--test", str(ds["test"]), "--task", ds["task"]]
    if engine == "capstan":
        cmd = [str(capstan_bin), *common, "--target", ds["target"], "--num-leaves", str(leaves),
               "--threads", str(a.threads), "--n-trees", str(a.n_trees),
               "--learning-rate", str(a.learning_rate), "--max-bins", "255",
               "--min-data-in-leaf", "20", "--repeat", str(a.repeat)]
        if ds["categorical"]:
            cmd += ["--categorical", ",".join(ds["categorical"])]
    else:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", engine, *common,
               "--target", ds["target"], "--leaves", str(leaves), "--threads", str(a.threads),
               "--n-trees", str(a.n_trees), "--learning-rate", str(a.learning_rate),
               "--repeat", str(a.repeat), "--categorical", ",".join(ds["categorical"])]
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", OMP_NUM_THREADS=str(a.threads))
    t = time.time()
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=a.timeout)
    except subprocess.TimeoutExpired:
        return dict(engine=engine, error=f"timed out after {a.timeout} s")
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        err = (p.stderr.strip().splitlines() or ["no output"])[-1]
        return dict(engine=engine, error=f"exit {p.returncode}: {err}")
    r = json.loads(lines[-1])
    r["wall_s"] = time.time() - t
    return r


def xgboost_available():
    try:
        import importlib.util

        return importlib.util.find_spec("xgboost") is not None
    except Exception:
        return False


def fmt(x, spec):
    return "—" if x is None else format(x, spec)


def fit_peak(r):
    """Peak RSS while fitting and predicting (data and interpreter included)."""
    return r.get("fit_peak_rss_mb") or r["peak_rss_mb"]


def train_mb(r):
    if r.get("fit_peak_rss_mb") is None or r.get("rss_before_fit_mb") is None:
        return None
    return r["fit_peak_rss_mb"] - r["rss_before_fit_mb"]


def metric_ok(name, cap, lgb_):
    if name == "roc_auc":
        return cap >= lgb_ - 0.001, f"{cap - lgb_:+.4f} AUC (>= -0.001)"
    if name == "accuracy":
        return cap >= lgb_ - 0.002, f"{100 * (cap - lgb_):+.2f} pp acc (>= -0.2)"
    rel = (cap - lgb_) / lgb_
    return rel <= 0.005, f"{100 * rel:+.2f} % RMSE (<= +0.5)"


def report(results, a):
    rows = ["| set | train rows | leaves | engine | fit s | predict rows/s | peak MB | "
            "train +MB | process peak MB | metric |",
            "|---|---:|---:|---|---:|---:|---:|---:|---:|---|"]
    for r in results:
        e = r["result"]
        if "error" in e:
            rows.append(f"| {r['set']} | {r['rows_train']} | {r['leaves']} | {r['engine']} | "
                        f"error: {e['error']} | | | | | |")
            continue
        rows.append(
            f"| {r['set']} | {r['rows_train']} | {r['leaves']} | {r['engine']} | "
            f"{e['fit_s']:.2f} | {e['predict_rows_per_s']:,.0f} | {fmt(fit_peak(e), '.0f')} | "
            f"{fmt(train_mb(e), '.0f')} | {fmt(e['peak_rss_mb'], '.0f')} | "
            f"{e['metric_name']} {e['metric']:.5f} |")
    print("\n".join(rows))

    by = {(r["set"], r["leaves"], r["engine"]): r["result"] for r in results}
    keys = sorted({(r["set"], r["leaves"]) for r in results}, key=lambda k: (
        [r["set"] for r in results].index(k[0]), k[1]))
    ratio_rows = []
    for s, leaves in keys:
        c, l_ = by.get((s, leaves, "capstan")), by.get((s, leaves, "lightgbm"))
        if not c or not l_ or "error" in c or "error" in l_:
            continue
        fit_target = 0.67 if s == "higgs" and leaves == 255 else 1.0
        fit_r = c["fit_s"] / l_["fit_s"]
        pred_r = c["predict_rows_per_s"] / l_["predict_rows_per_s"]
        mem_r = fit_peak(c) / fit_peak(l_)
        tm_c, tm_l = train_mb(c), train_mb(l_)
        tmem = (f"{tm_c / tm_l:.2f}x (<= 1) {'ok' if tm_c <= tm_l else 'MISS'}"
                if tm_c is not None and tm_l and tm_l > 0 else "—")
        ok_m, m_txt = metric_ok(c["metric_name"], c["metric"], l_["metric"])

        def mark(ok):
            return "ok" if ok else "MISS"

        ratio_rows.append(
            f"| {s} | {leaves} | {fit_r:.2f}x (<= {fit_target}) {mark(fit_r <= fit_target)} | "
            f"{pred_r:.2f}x (>= 3) {mark(pred_r >= 3)} | {mem_r:.2f}x (<= 1) {mark(mem_r <= 1)} | "
            f"{tmem} | {m_txt} {mark(ok_m)} |")
    if ratio_rows:
        print()
        print("| set | leaves | fit time capstan/LightGBM | predict throughput capstan/LightGBM | "
              "peak memory capstan/LightGBM | train +MB capstan/LightGBM | metric capstan − LightGBM |")
        print("|---|---:|---|---|---|---|---|")
        print("\n".join(ratio_rows))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000, help="Higgs-like training rows")
    ap.add_argument("--sets", default="higgs,adult,letter,california")
    ap.add_argument("--leaves", default="31,255")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--engines", default=None,
                    help="comma list of capstan,lightgbm,xgboost [default: all three below 5M "
                         "rows, capstan only from 5M]")
    ap.add_argument("--n-trees", type=int, default=100)
    ap.add_argument("--learning-rate", type=float, default=0.1)
    ap.add_argument("--repeat", type=int, default=None,
                    help="best of N fits and predictions [default: 3 below 200k training "
                         "rows, else 1]")
    ap.add_argument("--timeout", type=int, default=7200, help="seconds per engine run")
    ap.add_argument("--data", type=Path, default=DATA, help="../shared/data")
    ap.add_argument("--no-build", action="store_true", help="use the existing release binary")
    ap.add_argument("--capstan-bin", type=Path, default=None,
                    help="a capstan-bench-gbdt binary to use instead of building one (e.g. a "
                         "build of another commit)")
    # internal: one engine in this process
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--train", help=argparse.SUPPRESS)
    ap.add_argument("--test", help=argparse.SUPPRESS)
    ap.add_argument("--target", help=argparse.SUPPRESS)
    ap.add_argument("--task", help=argparse.SUPPRESS)
    ap.add_argument("--categorical", default="", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        a.leaves = int(a.leaves)
        a.repeat = a.repeat or 1
        worker(a)
        return

    OUT.mkdir(parents=True, exist_ok=True)
    engines = (a.engines.split(",") if a.engines
               else (ALL_ENGINES if a.rows < 5_000_000 else ["capstan"]))
    unknown = set(engines) - set(ALL_ENGINES)
    if unknown:
        raise SystemExit(f"unknown engines: {sorted(unknown)}")
    if "xgboost" in engines and not xgboost_available():
        print("note: xgboost is not installed (pip install xgboost); skipping it",
              file=sys.stderr)
        engines = [e for e in engines if e != "xgboost"]
    sets = [s for s in a.sets.split(",") if s]
    for s in sets:
        if s != "higgs" and s not in REAL_SETS:
            raise SystemExit(f"unknown set {s}: higgs, {', '.join(REAL_SETS)}")
    leaves = [int(x) for x in a.leaves.split(",")]

    capstan_bin = None
    if "capstan" in engines:
        if a.capstan_bin:
            capstan_bin = a.capstan_bin.resolve()
        elif a.no_build:
            meta = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                                  cwd=ROOT, check=True, capture_output=True, text=True)
            capstan_bin = (Path(json.loads(meta.stdout)["target_directory"]) / "release"
                           / "capstan-bench-gbdt")
        else:
            capstan_bin = build_capstan()

    git = subprocess.run(["git", "log", "-1", "--format=%h"], cwd=ROOT, capture_output=True,
                         text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "crates/capstan-learn"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    print(f"# GBDT benchmark: {time.strftime('%Y-%m-%d %H:%M:%S')}, git {git}"
          f"{' (capstan-learn has uncommitted changes)' if dirty else ''}, "
          f"{os.cpu_count()} cpus, threads {a.threads}, {a.n_trees} rounds, lr {a.learning_rate}, "
          f"engines {','.join(engines)}, load avg at start {os.getloadavg()[0]:.2f}", flush=True)
    if capstan_bin:
        print(f"# capstan binary: {capstan_bin}", flush=True)

    results = []
    for s in sets:
        try:
            ds = prepare_higgs(a.rows, a.data) if s == "higgs" else prepare_real(s, a.data)
        except Exception as exc:  # report, do not stop the other sets
            print(f"error preparing {s}: {exc}", file=sys.stderr)
            continue
        run_args = argparse.Namespace(**vars(a))
        if run_args.repeat is None:
            run_args.repeat = 3 if ds["rows_train"] < 200_000 else 1
        for lv in leaves:
            for eng in engines:
                r = run_engine(eng, ds, lv, run_args, capstan_bin)
                load = os.getloadavg()[0]
                results.append(dict(set=s, rows_train=ds["rows_train"], rows_test=ds["rows_test"],
                                    leaves=lv, engine=eng, load_avg_after=load, result=r))
                msg = r.get("error") or (f"fit {r['fit_s']:.2f} s, predict "
                                         f"{r['predict_rows_per_s']:,.0f} rows/s, "
                                         f"{r['metric_name']} {r['metric']:.5f}")
                print(f"  {s} leaves={lv} {eng}: {msg} (load {load:.2f})", file=sys.stderr,
                      flush=True)
    print(f"# load avg at end {os.getloadavg()[0]:.2f}\n")
    report(results, a)
    path = OUT / f"results-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(dict(args={k: str(v) for k, v in vars(a).items()},
                                    results=results), indent=1))
    print(f"\nraw results: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except Exception as exc:  # it reports; it does not fail the caller
        print(f"error: {exc!r}", file=sys.stderr)
    sys.exit(0)
