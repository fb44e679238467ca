#!/usr/bin/env python3
"""Serving benchmark: `capstan serve` vs MLflow's scoring server (`mlflow models serve`) on the
same GBDT, single-row requests over loopback, one server at a time, same cores. Run by hand:

    python3 scripts/bench_serve.py                 # sets up bench/venv-serve, builds, runs
    python3 scripts/bench_serve.py --no-build --duration 20 --connections 16 --cpus 0,1
    python3 scripts/bench_serve.py --no-build --servers capstan --capstan-log off

Not run in CI; it reports and exits 0 (it asserts nothing). JSON goes to bench/out/serve.json.

Peer environment: bench/venv-serve (gitignored; created here when missing, with mlflow,
lightgbm, pandas, scikit-learn). The script re-runs itself under that venv's Python.

Model (adult, ../shared/data/adult/adult.csv; 80/20 split, sklearn train_test_split,
random_state 42, stratified, as scripts/bench_gbdt.py): the training 80 % is written to
bench/out/serve-work/adult_train.csv and both engines train on it with the same GBDT settings
(100 trees, 31 leaves, learning rate 0.1, 255 bins, min 20 rows a leaf):
  capstan   `capstan train --data adult_train.csv --target income_gt_50k --model gbdt
            --n-trees 100 --num-leaves 31 --learning-rate 0.1` (its own pipeline encodes the
            8 string columns; it holds out its default 20 % for its report), then
            `capstan models register adult --run RUN --alias champion`.
  peer      an sklearn Pipeline (OrdinalEncoder on the 8 string columns, LightGBM's native
            categorical handling, LGBMClassifier n_estimators 100, num_leaves 31,
            learning_rate 0.1, max_bin 255, min_child_samples 20, n_jobs 1 when serving) saved
            with mlflow.sklearn.save_model (predict_proba), so both servers take the same raw
            rows, strings included, and each does its own preprocessing per request.

Servers (each alone on the machine, loopback, pinned with taskset to --cpus, 2 cores; the
servers and the load generator run at --nice, -10 by default as root, so that builds sharing
the machine preempt the benchmark less; the peer gets the same treatment):
  capstan   `capstan serve --store S --bind 127.0.0.1:P --log async` (--capstan-log; tokio,
            one worker per core of its affinity mask); native `POST
            /v1/models/adult/predict` with {"records": [{...}]}, and MLflow-compatible
            `POST /invocations` with the peer's exact bodies.
  mlflow    `mlflow models serve -m DIR --env-manager local -w 2` (uvicorn, 2 worker
            processes, OMP_NUM_THREADS=1 so the workers do not oversubscribe the 2 cores),
            `POST /invocations` with {"dataframe_split": {"columns": [...], "data": [[...]]}}.
Bodies: the first --rows test rows (nulls kept), one row per request, in the same order for
every server.

Load: target/release/capstan-bench-serve (crates/capstan-bench/src/serve.rs), one thread
per connection, blocking keep-alive HTTP/1.1. It runs on the SAME cores as the server (the
issue's "2 cores" covers both), so part of the machine goes to the client: the table shows
the CPU cores each side used during the saturation run (from /proc, user + system).
  1. saturation: closed loop, --connections connections, --warmup then --duration seconds;
  2. open loop at 50 % of Capstan's (native) saturation rate, latency measured from each
     request's scheduled send time (no coordinated omission); a server that cannot keep up
     is marked "overloaded" and its figures are lower bounds (">= ..."): requests never
     sent before the window closed count with the time from their schedule to the run's end;
  3. for the peer also at 50 % of its own saturation rate, so its unloaded latency shows.
Issue targets: Capstan >= 20x the peer's saturation throughput, and Capstan's p99 <= 2 ms at
50 % of its saturation rate.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
WORK = OUT / "serve-work"
VENV = ROOT / "bench" / "venv-serve"
DATA = ROOT.parent / "shared" / "data"
TARGET = "income_gt_50k"
PEER_PACKAGES = ["mlflow", "lightgbm", "pandas", "scikit-learn"]


# ----------------------------------------------------------------------------- setup


def ensure_venv():
    """Re-runs this script under bench/venv-serve's Python, creating the venv if needed."""
    py = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not py.exists():
        print(f"+ creating {VENV.relative_to(ROOT)} ({', '.join(PEER_PACKAGES)})",
              file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        (VENV / ".gitignore").write_text("*\n")
        subprocess.run([str(py), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
    os.execv(str(py), [str(py), str(Path(__file__).resolve()), *sys.argv[1:]])


def target_dir():
    meta = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                          cwd=ROOT, check=True, capture_output=True, text=True)
    return Path(json.loads(meta.stdout)["target_directory"]) / "release"


def build():
    cmd = ["cargo", "build", "--release", "-p", "capstan-cli", "-p", "capstan-bench"]
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


NICE = 0


def pinned(cmd, cpus):
    """Pinned to `cpus` (taskset) and, when --nice is set, run at that priority."""
    if cpus:
        cmd = ["taskset", "-c", cpus, *cmd]
    if NICE:
        cmd = ["nice", "-n", str(NICE), *cmd]
    return cmd


# ----------------------------------------------------------------------------- data and models


def prepare_data(data_dir, n_rows):
    import numpy as np
    import pandas as pd
    from sklearn.model_selection import train_test_split

    df = pd.read_csv(data_dir / "adult" / "adult.csv")
    meta = json.loads((data_dir / "adult" / "META.json").read_text())
    cats = meta["categorical_columns"]
    train_df, test_df = train_test_split(df, test_size=0.2, random_state=42,
                                         stratify=df[TARGET])
    WORK.mkdir(parents=True, exist_ok=True)
    train_csv = WORK / "adult_train.csv"
    train_df.to_csv(train_csv, index=False)

    features = [c for c in df.columns if c != TARGET]
    rows = test_df[features].head(n_rows)

    def cell(v, c):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if c in cats:
            return str(v)
        return int(v) if float(v).is_integer() else float(v)

    records = [{c: cell(r[c], c) for c in features} for _, r in rows.iterrows()]
    native = WORK / "bodies_native.jsonl"
    split = WORK / "bodies_split.jsonl"
    with native.open("w") as f:
        for r in records:
            f.write(json.dumps({"records": [r]}, separators=(",", ":")) + "\n")
    with split.open("w") as f:
        for r in records:
            body = {"dataframe_split": {"columns": features, "data": [[r[c] for c in features]]}}
            f.write(json.dumps(body, separators=(",", ":")) + "\n")
    return dict(train_df=train_df, train_csv=train_csv, cats=cats, features=features,
                native=native, split=split, n_bodies=len(records))


def train_capstan(capstan, store, train_csv):
    cmd = [str(capstan), "--store", str(store), "train", "--data", str(train_csv),
           "--target", TARGET, "--model", "gbdt", "--n-trees", "100", "--num-leaves", "31",
           "--learning-rate", "0.1", "--json"]
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    p = subprocess.run(cmd, check=True, capture_output=True, text=True)
    run_id = json.loads(p.stdout)["run_id"]
    cmd = [str(capstan), "--store", str(store), "models", "register", "adult", "--run", run_id,
           "--alias", "champion"]
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True, stdout=sys.stderr)
    return run_id


def train_peer(d, model_dir):
    import shutil

    import lightgbm as lgb
    import mlflow.sklearn
    from mlflow.models import infer_signature
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    features, cats = d["features"], d["cats"]
    numeric = [c for c in features if c not in cats]
    X = d["train_df"][features]
    y = d["train_df"][TARGET].astype(int)
    enc = ColumnTransformer(
        [("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                encoded_missing_value=-1), cats),
         ("num", "passthrough", numeric)], verbose_feature_names_out=False)
    clf = lgb.LGBMClassifier(n_estimators=100, num_leaves=31, learning_rate=0.1, max_bin=255,
                             min_child_samples=20, n_jobs=2, verbose=-1, random_state=0)
    pipe = Pipeline([("encode", enc), ("gbdt", clf)])
    # LightGBM treats negative category codes as missing
    pipe.fit(X, y, gbdt__categorical_feature=list(range(len(cats))))
    clf.set_params(n_jobs=1)
    if model_dir.exists():
        shutil.rmtree(model_dir)
    sig = infer_signature(X, pipe.predict_proba(X.head(100)))
    # MLflow 3 saves with skops by default and wants LightGBM's types named as trusted
    trusted = ["collections.OrderedDict", "lightgbm.basic.Booster",
               "lightgbm.sklearn.LGBMClassifier"]
    mlflow.sklearn.save_model(pipe, str(model_dir), signature=sig,
                              pyfunc_predict_fn="predict_proba", skops_trusted_types=trusted)
    return dict(lightgbm=lgb.__version__, mlflow=mlflow.__version__)


# ----------------------------------------------------------------------------- servers


def cpu_ticks_of_group(pgid):
    """User + system clock ticks of every live process in a process group."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[2]) == pgid:  # pgrp
            total += int(fields[11]) + int(fields[12])
    return total


class Server:
    def __init__(self, name, cmd, health_url, env=None, log_path=None):
        self.name = name
        self.log = open(log_path, "w") if log_path else subprocess.DEVNULL
        print("+", " ".join(cmd), file=sys.stderr, flush=True)
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log, env=env,
                                     start_new_session=True)
        deadline = time.time() + 180
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {self.proc.returncode} while starting; "
                                   f"see {log_path}")
            try:
                with urllib.request.urlopen(health_url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                self.stop()
                raise RuntimeError(f"{name} did not answer {health_url} within 180 s")
            time.sleep(0.25)

    def cpu_s(self):
        return cpu_ticks_of_group(self.proc.pid) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        if self.log is not subprocess.DEVNULL:
            self.log.close()


def load(loadgen, url, bodies, mode, a, rate=None, label=None, server=None):
    cmd = [str(loadgen), "--url", url, "--bodies", str(bodies), "--mode", mode,
           "--connections", str(a.connections), "--duration", str(a.duration),
           "--warmup", str(a.warmup), "--timeout", str(a.timeout)]
    if rate is not None:
        cmd += ["--rate", f"{rate:.3f}"]
    if label:
        cmd += ["--label", label]
    cmd = pinned(cmd, a.cpus)
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    # server CPU over (roughly) the measured window: sample after the warm-up
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    server_cpu = None
    if server is not None:
        time.sleep(0.2 + a.warmup)
        c0 = server.cpu_s()
        time.sleep(a.duration)
        server_cpu = (server.cpu_s() - c0) / a.duration
    out, err = p.communicate(timeout=a.warmup + a.duration + 4 * a.timeout + 60)
    if p.returncode != 0:
        return dict(error=(err.strip().splitlines() or [f"exit {p.returncode}"])[-1])
    r = json.loads(out.strip().splitlines()[-1])
    r["server_cpu_cores"] = server_cpu
    lat = r["latency_ms"]
    over = " OVERLOADED" if r.get("overloaded") else ""
    print(f"  {label}: {r['throughput_rps']:,.0f} rps, p50 {fmt(lat['p50'])} ms, "
          f"p99 {fmt(lat['p99'])} ms, errors {r['errors']}, client "
          f"{fmt(r.get('client_cpu_cores'), '.2f')} cores, server "
          f"{fmt(server_cpu, '.2f')} cores{over}", file=sys.stderr, flush=True)
    return r


def fmt(x, spec=".2f"):
    return "—" if x is None else format(x, spec)


# ----------------------------------------------------------------------------- report


def report(res, a, versions):
    cap = res.get("capstan", {})
    cap_sat = cap.get("saturation", {})
    cap_rate = cap_sat.get("throughput_rps")

    def lat(r, q):
        if not r or "error" in r:
            return "—"
        lb = r.get("latency_ms_lower_bound_with_unsent")
        if r.get("overloaded") and lb:
            return f">= {fmt(lb[q], ',.0f')}*"
        return fmt(r["latency_ms"][q]) + ("*" if r.get("overloaded") else "")

    rows = ["| server | endpoint | saturation rps | p50 ms | p99 ms | server/client cores | "
            f"p50 ms @ 50 % capstan ({fmt(cap_rate and cap_rate / 2, ',.0f')} rps) | "
            "p99 ms @ 50 % capstan | achieved rps @ 50 % capstan | p50 / p99 ms @ 50 % own |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, endpoint in [("capstan", "/v1/models/adult/predict (records)"),
                           ("capstan-invocations", "/invocations (dataframe_split)"),
                           ("mlflow", "/invocations (dataframe_split)")]:
        r = res.get(name)
        if not r:
            continue
        s = r.get("saturation", {})
        if "error" in s:
            rows.append(f"| {name} | {endpoint} | error: {s['error']} | | | | | | | |")
            continue
        o = r.get("open_capstan_half", {})
        own = r.get("open_own_half")
        own_txt = f"{lat(own, 'p50')} / {lat(own, 'p99')}" if own else "—"
        ach = (fmt(o.get("throughput_rps"), ",.0f") if o and "error" not in o else "—")
        cores = f"{fmt(s.get('server_cpu_cores'))} / {fmt(s.get('client_cpu_cores'))}"
        rows.append(f"| {name} | {endpoint} | {s['throughput_rps']:,.0f} | {lat(s, 'p50')} | "
                    f"{lat(s, 'p99')} | {cores} | {lat(o, 'p50')} | {lat(o, 'p99')} | {ach} | "
                    f"{own_txt} |")
    print("\n".join(rows))
    print("\n(* overloaded: the server could not keep up with the offered rate. Latency runs "
          "from each request's scheduled send; requests never sent before the window closed "
          "count with the time from their schedule to the end of the run, so the figure is a "
          "lower bound.)")
    peer_sat = res.get("mlflow", {}).get("saturation", {}).get("throughput_rps")
    verdict = {}
    if cap_rate and peer_sat:
        ratio = cap_rate / peer_sat
        verdict["throughput_ratio"] = ratio
        print(f"\nthroughput capstan / mlflow: {ratio:.1f}x (target >= 20x: "
              f"{'ok' if ratio >= 20 else 'MISS'})")
    half = cap.get("open_capstan_half", {})
    if half and "error" not in half:
        p99 = half["latency_ms"]["p99"]
        verdict["capstan_p99_at_half_ms"] = p99
        ok = p99 is not None and p99 <= 2.0 and not half.get("overloaded")
        print(f"capstan p99 at 50 % of its saturation rate: {fmt(p99, '.3f')} ms "
              f"(target <= 2 ms: {'ok' if ok else 'MISS'}); send lag p99 "
              f"{fmt(half['send_lag_ms']['p99'], '.3f')} ms (load generator's own lateness, "
              f"included in the latency)")
    print(f"\nversions: {json.dumps(versions)}")
    return verdict


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    ap.add_argument("--rows", type=int, default=1000, help="distinct request bodies")
    ap.add_argument("--cpus", default="0,1",
                    help="taskset CPU list for each server and the load generator ('' = none)")
    ap.add_argument("--peer-workers", type=int, default=2)
    ap.add_argument("--nice", type=int, default=-10 if os.geteuid() == 0 else 0,
                    help="nice value for the servers and the load generator (default -10 as "
                         "root, so builds running beside the benchmark on a shared machine "
                         "take less from it; 0 to leave priorities alone)")
    ap.add_argument("--servers", default="capstan,capstan-invocations,mlflow")
    ap.add_argument("--capstan-log", default="async", choices=["async", "durable", "off"],
                    help="capstan serve's prediction log (the issue's setting is async)")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args()
    ensure_venv()
    global NICE
    NICE = a.nice

    servers = [s for s in a.servers.split(",") if s]
    if not a.no_build:
        build()
    rel = target_dir()
    capstan, loadgen = rel / "capstan", rel / "capstan-bench-serve"
    for b in (capstan, loadgen):
        if not b.exists():
            raise SystemExit(f"{b} is missing: cargo build --release -p capstan-cli "
                             "-p capstan-bench")

    OUT.mkdir(parents=True, exist_ok=True)
    d = prepare_data(a.data, a.rows)
    store = WORK / "store"
    if store.exists():
        import shutil

        shutil.rmtree(store)
    run_id = train_capstan(capstan, store, d["train_csv"])
    versions = train_peer(d, WORK / "mlflow_model")
    git = subprocess.run(["git", "log", "-1", "--format=%h"], cwd=ROOT, capture_output=True,
                         text=True).stdout.strip()
    print(f"# serving benchmark: {time.strftime('%Y-%m-%d %H:%M:%S')}, git {git}, "
          f"{os.cpu_count()} cpus, servers and load generator pinned to "
          f"{a.cpus or 'all cpus'} at nice {a.nice}, {a.connections} connections (one load "
          f"thread each), "
          f"{a.warmup:g} s warm-up + {a.duration:g} s per run, {d['n_bodies']} distinct "
          f"single-row bodies, capstan --log {a.capstan_log}, load avg "
          f"{os.getloadavg()[0]:.2f}", flush=True)

    res = {}
    for name in servers:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log_path = WORK / f"{name}.log"
        # the venv's bin first: mlflow starts `uvicorn` by name
        env = dict(os.environ, OMP_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE",
                   PATH=f"{VENV / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
        if name.startswith("capstan"):
            cmd = [str(capstan), "--store", str(store), "serve", "--bind", f"127.0.0.1:{port}",
                   "--log", a.capstan_log]
            health = base + "/healthz"
            if name == "capstan":
                url, bodies = base + "/v1/models/adult/predict", d["native"]
            else:
                url, bodies = base + "/invocations", d["split"]
        elif name == "mlflow":
            cmd = [str(VENV / "bin" / "mlflow"), "models", "serve", "-m",
                   str(WORK / "mlflow_model"), "--env-manager", "local", "-h", "127.0.0.1",
                   "-p", str(port), "-w", str(a.peer_workers)]
            health, url, bodies = base + "/ping", base + "/invocations", d["split"]
        else:
            raise SystemExit(f"unknown server {name}")
        try:
            srv = Server(name, pinned(cmd, a.cpus), health, env=env, log_path=log_path)
        except RuntimeError as exc:
            res[name] = dict(saturation=dict(error=str(exc)))
            continue
        try:
            r = {}
            r["saturation"] = load(loadgen, url, bodies, "closed", a,
                                   label=f"{name} saturation", server=srv)
            cap_sat = res.get("capstan", {}).get("saturation", {}).get("throughput_rps")
            if name == "capstan":
                cap_sat = r["saturation"].get("throughput_rps")
            if cap_sat:
                r["open_capstan_half"] = load(loadgen, url, bodies, "open", a, rate=cap_sat / 2,
                                              label=f"{name} open @ {cap_sat / 2:,.0f} rps",
                                              server=srv)
            own = r["saturation"].get("throughput_rps")
            if name == "mlflow" and own:
                r["open_own_half"] = load(loadgen, url, bodies, "open", a, rate=own / 2,
                                          label=f"{name} open @ {own / 2:,.0f} rps", server=srv)
            res[name] = r
        finally:
            srv.stop()

    print(f"# load avg at end {os.getloadavg()[0]:.2f}\n")
    verdict = report(res, a, versions)
    path = OUT / "serve.json"
    path.write_text(json.dumps(dict(
        time=time.strftime("%Y-%m-%d %H:%M:%S"), git=git, cpus=a.cpus, cpu_count=os.cpu_count(),
        args={k: str(v) for k, v in vars(a).items()}, capstan_run=run_id, versions=versions,
        note="the load generator shares the servers' cores (taskset --cpus); "
             "client_cpu_cores / server_cpu_cores show the split",
        verdict=verdict, results=res), indent=1))
    print(f"raw results: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except Exception as exc:  # it reports; it does not fail the caller
        print(f"error: {exc!r}", file=sys.stderr)
    sys.exit(0)
