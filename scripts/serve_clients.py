#!/usr/bin/env python3
"""Scores rows on a running `capstan serve` with real third-party clients.

Usage: serve_clients.py URL MODEL ROWS_CSV EXPECTED_CSV

  URL           the server, e.g. http://127.0.0.1:8080
  MODEL         a served model name (it must also be what /invocations scores)
  ROWS_CSV      input rows with a header (extra columns such as the target are ignored)
  EXPECTED_CSV  `capstan predict` output for ROWS_CSV: prediction,proba_<class>...

1. Open Inference Protocol v2 with NVIDIA's `tritonclient[http]`: server live and ready,
   model ready and metadata, then one inference request per encoding with one `InferInput`
   per input column built from the metadata's datatypes (INT64, FP64, BOOL, BYTES):
     - binary tensors (`binary_data=True`, the client default; no outputs named, so the
       client asks for binary outputs with `binary_data_output`),
     - JSON tensors (`binary_data=False`, the outputs named and asked for as JSON).
   Every returned probability must be within 1e-12 of EXPECTED_CSV, every label equal.
2. One hand-written v2 JSON request (urllib) with every row, probabilities and labels
   compared the same way.
3. MLflow scoring protocol with plain `urllib` on /invocations: `dataframe_split`,
   `dataframe_records` and `instances`; every predicted label must equal EXPECTED_CSV's.

Missing values (empty CSV cells; telco_v1.input.csv has three, in the FP64 column
total_charges): a v2 tensor element has no null. The binary tritonclient request sends an
empty FP64/FP32 cell as NaN, which the server scores as a missing value; the JSON
tritonclient request cannot (JSON has no NaN, tritonclient no null), so it leaves those rows
out and says which. Rows with an empty cell of another datatype are left out of both.
Requests 2 and 3 send every row, an empty cell as JSON `null`: the server documents `null`
in v2 JSON data as a null cell (its extension of the protocol), and reads `null` in MLflow
bodies as a missing value of a nullable column.

Prints one line per check and a final JSON line {"rows_compared": ..., "predictions": ...}
(predictions = rows the server scored, so the prediction log should hold that many). Exits
1 with a message naming the request, row and values on any mismatch.
"""

import csv
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

TOL = 1e-12


class Mismatch(Exception):
    pass


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def read_expected(path, n_rows):
    header, rows = read_csv(path)
    if "prediction" not in header:
        raise Mismatch(f"{path}: expected a 'prediction' column, found {header}")
    proba_cols = [c for c in header if c.startswith("proba_")]
    if len(rows) != n_rows:
        raise Mismatch(f"{path} has {len(rows)} rows, the input has {n_rows}")
    labels = [r["prediction"] for r in rows]
    probas = np.array([[float(r[c]) for c in proba_cols] for r in rows], dtype=np.float64)
    classes = [c[len("proba_"):] for c in proba_cols]
    return labels, probas, classes


def column_array(name, datatype, values):
    """One input column as the numpy array its metadata datatype asks for."""
    try:
        if datatype == "INT64":
            return np.array([int(v) for v in values], dtype=np.int64)
        if datatype == "FP64":
            return np.array([float(v) if v != "" else np.nan for v in values], dtype=np.float64)
        if datatype == "FP32":
            return np.array([float(v) if v != "" else np.nan for v in values], dtype=np.float32)
        if datatype == "BOOL":
            truth = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
            return np.array([truth[v.strip().lower()] for v in values], dtype=np.bool_)
        if datatype == "BYTES":
            return np.array([v.encode("utf-8") for v in values], dtype=np.object_)
    except (ValueError, KeyError) as e:
        raise Mismatch(f"column '{name}': a value does not fit {datatype}: {e}") from e
    raise Mismatch(f"column '{name}': datatype {datatype} is not handled by this script")


def json_value(datatype, text):
    """One CSV cell as the JSON value MLflow clients send (pandas-like dtypes)."""
    if text == "":
        return None
    if datatype == "INT64":
        return int(text)
    if datatype in ("FP64", "FP32"):
        return float(text)
    if datatype == "BOOL":
        return text.strip().lower() in ("true", "1", "yes")
    return text


def check_probas(what, got, expected, row_numbers):
    got = np.asarray(got, dtype=np.float64)
    if got.shape != expected.shape:
        raise Mismatch(f"{what}: probabilities have shape {got.shape}, expected {expected.shape}")
    diff = np.abs(got - expected)
    worst = float(diff.max()) if diff.size else 0.0
    if not worst <= TOL:
        i, j = np.unravel_index(int(np.argmax(diff)), diff.shape)
        raise Mismatch(
            f"{what}: row {row_numbers[i]} class {j}: got {float(got[i, j])!r}, expected "
            f"{float(expected[i, j])!r} (|diff| {worst:.3e} > {TOL})"
        )
    return worst


def check_labels(what, got, expected, row_numbers):
    got = [label_text(v) for v in got]
    if len(got) != len(expected):
        raise Mismatch(f"{what}: {len(got)} labels returned for {len(expected)} rows")
    for i, (g, e) in enumerate(zip(got, expected)):
        if g != e:
            raise Mismatch(f"{what}: row {row_numbers[i]}: predicted {g!r}, expected {e!r}")


def label_text(v):
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


# ---- Open Inference Protocol v2 with tritonclient ----


def v2_outputs(meta, n_classes):
    """(probabilities output name, label output name) from the model metadata."""
    outputs = meta.get("outputs") or []
    proba = label = None
    for o in outputs:
        name, dt, shape = o["name"], o["datatype"], o.get("shape", [])
        if dt in ("FP64", "FP32") and len(shape) == 2 and shape[1] in (n_classes, -1) and proba is None:
            proba = name
        if dt == "BYTES" and label is None:
            label = name
    if proba is None or label is None:
        raise Mismatch(f"model metadata lists no probability (FP64 [-1,{n_classes}]) and label (BYTES) outputs: {outputs}")
    return proba, label


def v2_checks(hostport, model, header, rows, exp_labels, exp_probas, classes):
    client = httpclient.InferenceServerClient(url=hostport, connection_timeout=30, network_timeout=60)
    if not client.is_server_live():
        raise Mismatch("v2: /v2/health/live says not live")
    if not client.is_server_ready():
        raise Mismatch("v2: /v2/health/ready says not ready")
    if not client.is_model_ready(model):
        raise Mismatch(f"v2: /v2/models/{model}/ready says not ready")
    server = client.get_server_metadata()
    meta = client.get_model_metadata(model)
    inputs = meta.get("inputs") or []
    print(f"v2: server {server.get('name')} {server.get('version')} extensions {server.get('extensions')}; "
          f"model {meta.get('name')} versions {meta.get('versions')}: {len(inputs)} inputs, outputs "
          f"{[(o['name'], o['datatype'], o.get('shape')) for o in meta.get('outputs', [])]}")
    missing = [i["name"] for i in inputs if i["name"] not in header]
    if missing:
        raise Mismatch(f"v2: model inputs {missing} are not columns of the rows CSV")
    proba_name, label_name = v2_outputs(meta, len(classes))

    # A v2 tensor element has no null. In binary FP64/FP32 data an empty cell is sent as NaN
    # (the server scores NaN as a missing value); JSON has no NaN, and no other datatype has
    # a missing value, so rows with such empty cells are left out of that request.
    floats = {x["name"] for x in inputs if x["datatype"] in ("FP64", "FP32")}

    def sendable(row, binary):
        return all(row[x["name"]] != "" or (binary and x["name"] in floats) for x in inputs)

    scored = rows_compared = 0
    for binary in (True, False):
        keep = [i for i, r in enumerate(rows) if sendable(r, binary)]
        skipped = [i + 1 for i, r in enumerate(rows) if not sendable(r, binary)]
        nans = sum(rows[i][x] == "" for i in keep for x in floats)
        what = f"v2 infer (tritonclient, {'binary' if binary else 'JSON'} tensors, {len(keep)} rows"
        what += f", {nans} NaN)" if binary else ")"
        if skipped:
            print(f"{what}: rows {skipped} left out (an empty cell has no encoding here)")
        if not keep:
            raise Mismatch(f"{what}: no row to send")
        row_numbers = [i + 1 for i in keep]
        expected_p = exp_probas[keep]
        expected_l = [exp_labels[i] for i in keep]
        tensors = []
        for x in inputs:
            array = column_array(x["name"], x["datatype"], [rows[i][x["name"]] for i in keep])
            t = httpclient.InferInput(x["name"], [len(keep)], x["datatype"])
            t.set_data_from_numpy(array, binary_data=binary)
            tensors.append(t)
        # Binary: no outputs named, so the client asks for every output in binary form.
        # JSON: the outputs are named and asked for as JSON.
        outputs = None if binary else [
            httpclient.InferRequestedOutput(proba_name, binary_data=False),
            httpclient.InferRequestedOutput(label_name, binary_data=False),
        ]
        try:
            result = client.infer(model, tensors, outputs=outputs, request_id=f"serve-clients-{int(binary)}")
        except InferenceServerException as e:
            raise Mismatch(f"{what}: the server refused it: {e}") from e
        scored += len(keep)
        rows_compared += len(keep)
        response = result.get_response()
        if response.get("model_name") != model:
            raise Mismatch(f"{what}: response model_name {response.get('model_name')!r}, expected {model!r}")
        probas = result.as_numpy(proba_name)
        labels = result.as_numpy(label_name)
        if probas is None or labels is None:
            raise Mismatch(f"{what}: outputs {proba_name!r} / {label_name!r} missing from {response}")
        probas = probas.reshape(len(keep), -1)
        worst = check_probas(what, probas, expected_p, row_numbers)
        check_labels(what, labels.reshape(-1), expected_l, row_numbers)
        binary_out = any("binary_data_size" in (o.get("parameters") or {}) for o in response.get("outputs", []))
        print(f"{what}: {len(keep)} rows x {probas.shape[1]} probabilities match (max |diff| {worst:.1e}), "
              f"labels match; outputs came back {'binary' if binary_out else 'as JSON'}")
        if binary and not binary_out:
            # The binary tensor extension lets a server answer JSON; tritonclient reads both.
            print(f"{what}: note: binary outputs were asked for (binary_data_output) and JSON came back")
    client.close()
    return rows_compared, scored


def v2_json_with_nulls(base_url, model, header, rows, dtypes, exp_labels, exp_probas):
    """Every row, as a hand-written v2 JSON request: an empty cell is `null` (the server's
    documented extension of the protocol; tritonclient cannot send it)."""
    url = f"{base_url.rstrip('/')}/v2/models/{model}/infer"
    inputs = []
    for name, dt in dtypes.items():
        data = [json_value(dt, r[name]) for r in rows]
        inputs.append({"name": name, "shape": [len(rows)], "datatype": dt, "data": data})
    nulls = sum(v is None for i in inputs for v in i["data"])
    what = f"v2 infer (hand-written JSON, {len(rows)} rows, {nulls} nulls)"
    status, body = post_json(url, {"id": "serve-clients-nulls", "inputs": inputs})
    if status != 200:
        raise Mismatch(f"{what}: HTTP {status}: {body[:1000]}")
    doc = json.loads(body)
    outputs = {o["name"]: o for o in doc.get("outputs", [])}
    proba, label = v2_outputs({"outputs": list(outputs.values())}, exp_probas.shape[1])
    row_numbers = list(range(1, len(rows) + 1))
    got = np.array(outputs[proba]["data"], dtype=np.float64).reshape(outputs[proba]["shape"])
    worst = check_probas(what, got, exp_probas, row_numbers)
    check_labels(what, outputs[label]["data"], exp_labels, row_numbers)
    print(f"{what}: probabilities match (max |diff| {worst:.1e}), labels match")
    return len(rows), len(rows)


# ---- MLflow scoring protocol with urllib ----


def post_json(url, payload):
    data = json.dumps(payload).encode("utf-8")
    req = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def mlflow_labels(what, body):
    try:
        doc = json.loads(body)
    except json.JSONDecodeError as e:
        raise Mismatch(f"{what}: response is not JSON ({e}): {body[:500]}") from e
    preds = doc.get("predictions") if isinstance(doc, dict) else doc
    if not isinstance(preds, list):
        raise Mismatch(f"{what}: expected {{\"predictions\": [...]}}, got {body[:500]}")
    # Either plain labels, or one object per row holding the label.
    out = []
    for p in preds:
        if isinstance(p, dict):
            for key in ("prediction", "label", "predicted_label"):
                if key in p:
                    out.append(p[key])
                    break
            else:
                raise Mismatch(f"{what}: a prediction object without a label: {p}")
        else:
            out.append(p)
    return out


def mlflow_checks(base_url, header, rows, dtypes, exp_labels):
    url = base_url.rstrip("/") + "/invocations"
    columns = [c for c in header if c in dtypes]
    values = [[json_value(dtypes[c], r[c]) for c in columns] for r in rows]
    records = [dict(zip(columns, v)) for v in values]
    payloads = {
        "dataframe_split": {"dataframe_split": {"columns": columns, "data": values}},
        "dataframe_records": {"dataframe_records": records},
        "instances": {"instances": records},
    }
    row_numbers = list(range(1, len(rows) + 1))
    nulls = sum(v is None for row in values for v in row)
    scored = 0
    for form, payload in payloads.items():
        what = f"MLflow /invocations {form} ({len(rows)} rows, {nulls} nulls)"
        status, body = post_json(url, payload)
        if status != 200:
            raise Mismatch(f"{what}: HTTP {status}: {body[:1000]}")
        scored += len(rows)
        check_labels(what, mlflow_labels(what, body), exp_labels, row_numbers)
        print(f"{what}: labels match")
    return len(rows), scored


def main(argv):
    if len(argv) != 5:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    url, model, rows_csv, expected_csv = argv[1:]
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme != "http" or not parsed.netloc:
        print(f"serve_clients: URL must look like http://HOST:PORT, got {url!r}", file=sys.stderr)
        return 2
    header, rows = read_csv(rows_csv)
    try:
        exp_labels, exp_probas, classes = read_expected(expected_csv, len(rows))
        meta = httpclient.InferenceServerClient(url=parsed.netloc).get_model_metadata(model)
        dtypes = {x["name"]: x["datatype"] for x in meta.get("inputs", [])}
        v2_rows, v2_scored = v2_checks(parsed.netloc, model, header, rows, exp_labels, exp_probas, classes)
        null_rows, null_scored = v2_json_with_nulls(url, model, header, rows, dtypes, exp_labels, exp_probas)
        ml_rows, ml_scored = mlflow_checks(url, header, rows, dtypes, exp_labels)
    except (Mismatch, InferenceServerException) as e:
        print(f"serve_clients: FAILED: {e}", file=sys.stderr)
        return 1
    print(json.dumps({
        "rows_compared": {
            "v2_tritonclient": v2_rows,
            "v2_json_with_nulls": null_rows,
            "mlflow_labels": ml_rows * 3,
        },
        "predictions": v2_scored + null_scored + ml_scored,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
