#!/usr/bin/env python3
"""Data benchmark: `capstan data profile` vs pandas, and capstan's CSV reader vs pyarrow's,
side by side in one run (issue 5). Not run in CI; it reports and always exits 0.

    .venv/bin/python scripts/bench_data.py [--rows 1000000] [--threads 2] [--repeat 3] [--no-build]

Data (bench/out/, gitignored, reused when present): ../shared/data/make_synth.py --kind binary
--seed 42 --rows N (the Higgs-like set: 28 float32 features + 0/1 `label`), written as CSV and
as Parquet with snappy (capstan-frame reads snappy, not zstd).

Measured (wall time, best of --repeat, page cache warm, each engine in its own process):
 (a) profile
     capstan   `capstan data profile --data FILE --target label --out profile.json`: read +
               the whole profile (describe numbers, distinct, top values, numpy histograms,
               Pearson matrix, duplicate rows, single-feature AUC per feature, findings) +
               JSON written. Release build.
     pandas    read_csv / read_parquet + describe() + value_counts() on every column +
               nunique() + isna().sum()  ("pandas basic", what the issue asks for), and
               "pandas like-for-like": basic + corr() + duplicated().sum() + numpy.histogram
               (20 bins) per column, i.e. roughly what capstan computes.
 (b) CSV parse throughput: target/release/capstan-bench-read (capstan_frame::read) vs
     pyarrow.csv.read_csv with use_threads and pyarrow.set_cpu_count(--threads); file MB / s.
     Parquet read time is listed too (pyarrow.parquet.read_table vs capstan_frame::read).
     capstan's CSV reader reads, tokenizes and types chunks of the file on the rayon pool,
     which --threads sizes.

Ratios are capstan time / peer time (below 1 = capstan faster) and capstan MB/s / pyarrow
MB/s. Raw results go to bench/out/data-results-<time>.json.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DATA = ROOT.parent / "shared" / "data"

PANDAS_WORKER = r"""
import json, sys, time
import numpy as np
import pandas as pd
path, mode, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
best = float("inf")
for _ in range(repeat):
    t0 = time.perf_counter()
    df = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)
    t_read = time.perf_counter() - t0
    d = df.describe()
    vc = [df[c].value_counts() for c in df.columns]
    nu = df.nunique()
    na = df.isna().sum()
    if mode == "full":
        corr = df.corr(numeric_only=True)
        dup = int(df.duplicated().sum())
        hists = [np.histogram(df[c].dropna().to_numpy(dtype=float), bins=20) for c in df.columns]
    best = min(best, time.perf_counter() - t0)
print(json.dumps({"seconds": best, "read_seconds": t_read, "rows": len(df)}))
"""

PYARROW_WORKER = r"""
import json, sys, time
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
path, threads, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pa.set_cpu_count(threads)
pa.set_io_thread_count(threads)
open(path, "rb").read()
best = float("inf")
for _ in range(repeat):
    t0 = time.perf_counter()
    if path.endswith(".parquet"):
        t = pq.read_table(path, use_threads=True)
    else:
        t = pcsv.read_csv(path, read_options=pcsv.ReadOptions(use_threads=True))
    best = min(best, time.perf_counter() - t0)
print(json.dumps({"seconds": best, "rows": t.num_rows}))
"""


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def target_dir():
    meta = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                          cwd=ROOT, check=True, capture_output=True, text=True)
    return Path(json.loads(meta.stdout)["target_directory"]) / "release"


def build():
    cmd = ["cargo", "build", "--release", "-p", "capstan-cli", "-p", "capstan-bench",
           "--bin", "capstan", "--bin", "capstan-bench-read"]
    log("+", " ".join(cmd))
    subprocess.run(cmd, cwd=ROOT, check=True)


def prepare(rows):
    OUT.mkdir(parents=True, exist_ok=True)
    stem = f"higgs_like_{rows}_s42"
    csv, parquet = OUT / f"{stem}.csv", OUT / f"{stem}.parquet"
    if not (csv.exists() and parquet.exists()):
        cmd = [sys.executable, str(DATA / "make_synth.py"), "--kind", "binary", "--rows",
               str(rows), "--seed", "42", "--format", "both", "--compression", "snappy",
               "--out", str(OUT), "--name", stem]
        log("+", " ".join(cmd))
        subprocess.run(cmd, check=True, stdout=sys.stderr)
    return csv, parquet


def env_for(threads):
    env = dict(os.environ)
    env.update(RAYON_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               OMP_WAIT_POLICY="PASSIVE")
    return env


def time_capstan_profile(capstan, path, repeat, threads):
    best = float("inf")
    out = OUT / "profile.json"
    for _ in range(repeat):
        t0 = time.perf_counter()
        run = subprocess.run([str(capstan), "--store", str(OUT / "store"), "data", "profile",
                              "--data", str(path), "--target", "label", "--out", str(out)],
                             env=env_for(threads), capture_output=True, text=True)
        elapsed = time.perf_counter() - t0
        if run.returncode != 0:
            raise RuntimeError(f"capstan data profile failed: {run.stderr}")
        best = min(best, elapsed)
        note = run.stderr.strip().splitlines()[0] if run.stderr.strip() else ""
    return {"seconds": best, "note": note}


def run_json(cmd, threads):
    run = subprocess.run(cmd, env=env_for(threads), capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed: {run.stderr}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-build", action="store_true", help="use the existing release binaries")
    a = ap.parse_args()

    if not a.no_build:
        build()
    rel = target_dir()
    capstan, reader = rel / "capstan", rel / "capstan-bench-read"
    csv, parquet = prepare(a.rows)
    mb = {p: p.stat().st_size / 1e6 for p in (csv, parquet)}
    results = {"rows": a.rows, "threads": a.threads, "files": {str(p): m for p, m in mb.items()}}

    prof = []
    for path in (csv, parquet):
        kind = path.suffix[1:]
        log(f"profile {kind} ...")
        c = time_capstan_profile(capstan, path, a.repeat, a.threads)
        pb = run_json([sys.executable, "-c", PANDAS_WORKER, str(path), "basic", str(a.repeat)],
                      a.threads)
        pf = run_json([sys.executable, "-c", PANDAS_WORKER, str(path), "full", str(a.repeat)],
                      a.threads)
        prof.append((kind, c, pb, pf))
    results["profile"] = [{"format": k, "capstan": c, "pandas_basic": pb, "pandas_full": pf}
                          for k, c, pb, pf in prof]

    reads = []
    for path in (csv, parquet):
        kind = path.suffix[1:]
        log(f"read {kind} ...")
        c = run_json([str(reader), str(path), "--threads", str(a.threads),
                      "--repeat", str(a.repeat)], a.threads)
        p = run_json([sys.executable, "-c", PYARROW_WORKER, str(path), str(a.threads),
                      str(a.repeat)], a.threads)
        reads.append((kind, c, p))
    results["read"] = [{"format": k, "capstan": c, "pyarrow": p} for k, c, p in reads]

    print(f"\nHiggs-like set, {a.rows:,} rows x 29 columns; CSV {mb[csv]:.0f} MB, "
          f"Parquet {mb[parquet]:.0f} MB; {a.threads} threads; best of {a.repeat}\n")
    print("(a) profile, wall seconds (read included)")
    print(f"{'format':8} {'capstan':>8} {'pandas basic':>13} {'ratio':>6} "
          f"{'pandas like-for-like':>21} {'ratio':>6}")
    for kind, c, pb, pf in prof:
        print(f"{kind:8} {c['seconds']:8.2f} {pb['seconds']:13.2f} "
              f"{c['seconds'] / pb['seconds']:6.2f} {pf['seconds']:21.2f} "
              f"{c['seconds'] / pf['seconds']:6.2f}")
    for kind, c, _, _ in prof:
        print(f"  capstan {kind}: {c['note']}")
    print("\n(b) read, seconds and MB/s of file")
    print(f"{'format':8} {'capstan s':>9} {'MB/s':>7} {'pyarrow s':>9} {'MB/s':>7} "
          f"{'capstan/pyarrow speed':>22}")
    for kind, c, p in reads:
        size = mb[csv] if kind == "csv" else mb[parquet]
        print(f"{kind:8} {c['seconds']:9.2f} {size / c['seconds']:7.0f} {p['seconds']:9.2f} "
              f"{size / p['seconds']:7.0f} {p['seconds'] / c['seconds']:22.2f}")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = OUT / f"data-results-{stamp}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"\nraw results: {path}")


if __name__ == "__main__":
    main()
