//! Oracle test: profiles of real data sets against pandas / numpy / scipy / scikit-learn on
//! the same files.
//!
//! Compared: count, `isna().sum()`, `nunique()`, `describe()` (mean, std, quartiles, min,
//! max) for the columns both read as numbers, zeros, `numpy.histogram(bins=20)`,
//! `value_counts()` heads (ties by value), `duplicated().sum()`, `corr(numeric_only=True)`,
//! Cramér's V (scipy `chi2_contingency`, no correction) and every target measure.
//!
//! pandas reads with `keep_default_na=False, na_values=[""]`: only empty fields are missing
//! in both, and texts such as '?' or 'unknown' are values in both.
//!
//! Runs `$CAPSTAN_PYTHON`, else the workspace `.venv/bin/python`, else `python3`. Without
//! python + pandas + scipy + scikit-learn the test prints a skip note, or fails when `CI` is set.

use std::path::{Path, PathBuf};
use std::process::Command;

use capstan_frame::{DataType, ReadOptions};
use capstan_quality::profile::{Profile, ProfileOptions, profile};
use serde_json::Value;

/// Relative tolerance (plus 1e-12 absolute for values near zero).
const TOL: f64 = 1e-9;

const SCRIPT: &str = r#"
import json, sys, warnings
import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency
from sklearn.metrics import roc_auc_score
warnings.simplefilter("ignore")

spec = json.load(open(sys.argv[1]))
df = pd.read_csv(spec["path"], keep_default_na=False, na_values=[""])

def f(x):
    x = float(x)
    return None if np.isnan(x) else x

def vc_key(item):
    v, c = item
    return (-c, v)

out = {"n_rows": len(df), "duplicates": int(df.duplicated().sum()), "columns": {}}
for name in df.columns:
    s = df[name]
    col = {"count": int(s.count()), "missing": int(s.isna().sum()), "nunique": int(s.nunique()),
           "numeric": bool(pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s))}
    if col["numeric"] and s.count() > 0:
        d = s.describe()
        col["describe"] = {k: f(d[k]) for k in ["mean", "std", "min", "25%", "50%", "75%", "max"]}
        col["zeros"] = int((s == 0).sum())
        v = s.dropna().to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        counts, edges = np.histogram(v, bins=20)
        col["hist"] = {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]}
    items = [(k.item() if hasattr(k, "item") else k, int(c)) for k, c in s.value_counts().items()]
    items.sort(key=vc_key)
    col["top"] = [[str(k) if isinstance(k, str) else float(k), c] for k, c in items[:10]]
    out["columns"][name] = col

num = spec["numeric_columns"]
out["corr"] = [[f(x) for x in row] for row in df[num].astype(float).corr().to_numpy()]

def cramers_v(a, b):
    m = a.notna() & b.notna()
    t = pd.crosstab(a[m], b[m])
    if min(t.shape) < 2:
        return None
    chi2 = chi2_contingency(t.to_numpy(), correction=False)[0]
    return float(np.sqrt(chi2 / (t.to_numpy().sum() * (min(t.shape) - 1))))

cat = spec["categorical_columns"]
out["cramers_v"] = [[cramers_v(df[a], df[b]) for b in cat] for a in cat]

def eta(groups, values):
    m = groups.notna() & values.notna()
    g, v = groups[m], values[m].astype(float)
    total = ((v - v.mean()) ** 2).sum()
    if len(v) < 2 or total == 0:
        return None
    means = v.groupby(g).agg(["mean", "count"])
    between = (means["count"] * (means["mean"] - v.mean()) ** 2).sum()
    return float(np.sqrt(between / total))

def auc(x, y):
    m = x.notna() & y.notna()
    labels = sorted(y[m].unique())
    if len(labels) != 2:
        return None
    a = roc_auc_score((y[m] == labels[1]).astype(int), x[m].astype(float))
    return float(max(a, 1 - a))

target = {}
y = df[spec["target"]]
for feat in spec["features"]:
    x = df[feat["column"]]
    m = feat["measure"]
    if m == "pearson":
        v = f(x.astype(float).corr(y.astype(float)))
    elif m == "single_feature_auc":
        v = auc(x, y)
    elif m == "correlation_ratio":
        v = eta(y, x) if feat["feature_numeric"] else eta(x, y)
    else:
        v = cramers_v(x, y)
    target[feat["column"]] = v
out["target"] = target
print(json.dumps(out))
"#;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(name)
        .join(format!("{name}.csv"))
}

fn python() -> String {
    if let Ok(p) = std::env::var("CAPSTAN_PYTHON") {
        return p;
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    if venv.exists() {
        return venv.display().to_string();
    }
    "python3".into()
}

fn python_ready(py: &str) -> bool {
    let ok = Command::new(py)
        .args(["-c", "import pandas, numpy, scipy, sklearn"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI: {py} lacks pandas/numpy/scipy/scikit-learn"
        );
        eprintln!("skip: {py} lacks pandas/numpy/scipy/scikit-learn");
    }
    ok
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= TOL * a.abs().max(b.abs()) + 1e-12
}

fn assert_close(what: &str, ours: Option<f64>, theirs: &Value) {
    match (ours, theirs.as_f64()) {
        (None, None) => {}
        (Some(a), Some(b)) => assert!(close(a, b), "{what}: capstan {a} vs pandas {b}"),
        (a, _) => panic!("{what}: capstan {a:?} vs pandas {theirs}"),
    }
}

/// Profiles `name` with `target`, runs pandas on the same file, compares everything.
fn check(py: &str, name: &str, target: &str) -> Profile {
    let path = data(name);
    let frame = capstan_frame::read(&path, &ReadOptions::default()).expect("read data set");
    let opts = ProfileOptions {
        target: Some(target.to_string()),
        ..ProfileOptions::default()
    };
    let p = profile(&frame, &path.display().to_string(), &opts).expect("profile");
    let t = p.target.as_ref().expect("target profile");
    let features: Vec<Value> = t
        .features
        .iter()
        .map(|f| {
            let numeric = p
                .column(&f.column)
                .is_some_and(|c| matches!(c.dtype, DataType::Integer | DataType::Float));
            serde_json::json!({"column": f.column, "measure": f.measure, "feature_numeric": numeric})
        })
        .collect();
    let spec = serde_json::json!({
        "path": path,
        "target": target,
        "numeric_columns": p.correlations.numeric_columns,
        "categorical_columns": p.correlations.categorical_columns,
        "features": features,
    });
    let dir = std::env::temp_dir().join(format!("capstan-profile-oracle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let spec_path = dir.join(format!("{name}.json"));
    std::fs::write(&spec_path, spec.to_string()).expect("write spec");
    let run = Command::new(py)
        .args(["-c", SCRIPT])
        .arg(&spec_path)
        .output()
        .expect("run python");
    assert!(
        run.status.success(),
        "pandas failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let pd: Value = serde_json::from_slice(&run.stdout).expect("pandas json");

    assert_eq!(
        p.n_rows as u64,
        pd["n_rows"].as_u64().expect("rows"),
        "{name}"
    );
    assert_eq!(
        p.duplicate_rows as u64,
        pd["duplicates"].as_u64().expect("duplicates"),
        "{name}: duplicated().sum()"
    );
    let mut described = 0;
    for c in &p.columns {
        let q = &pd["columns"][&c.name];
        let at = format!("{name}.{}", c.name);
        assert_eq!(
            c.count as u64,
            q["count"].as_u64().expect("count"),
            "{at}: count"
        );
        assert_eq!(
            c.missing as u64,
            q["missing"].as_u64().expect("missing"),
            "{at}: isna"
        );
        assert_eq!(
            c.distinct as u64,
            q["nunique"].as_u64().expect("nunique"),
            "{at}: nunique"
        );
        let ours_numeric = matches!(c.dtype, DataType::Integer | DataType::Float);
        if ours_numeric && q["numeric"].as_bool() == Some(true) && c.count > 0 {
            described += 1;
            let s = c.numeric.as_ref().expect("numeric stats");
            let d = &q["describe"];
            assert_close(&format!("{at}: mean"), Some(s.mean), &d["mean"]);
            assert_close(&format!("{at}: std"), s.std, &d["std"]);
            assert_close(&format!("{at}: min"), Some(s.min), &d["min"]);
            assert_close(&format!("{at}: 25%"), Some(s.q25), &d["25%"]);
            assert_close(&format!("{at}: 50%"), Some(s.q50), &d["50%"]);
            assert_close(&format!("{at}: 75%"), Some(s.q75), &d["75%"]);
            assert_close(&format!("{at}: max"), Some(s.max), &d["max"]);
            assert_eq!(
                s.zeros as u64,
                q["zeros"].as_u64().expect("zeros"),
                "{at}: zeros"
            );
            let edges = q["hist"]["edges"].as_array().expect("edges");
            assert_eq!(s.histogram.edges.len(), edges.len(), "{at}: edges");
            for (a, b) in s.histogram.edges.iter().zip(edges) {
                assert_close(&format!("{at}: histogram edge"), Some(*a), b);
            }
            let counts: Vec<u64> = q["hist"]["counts"]
                .as_array()
                .expect("counts")
                .iter()
                .map(|v| v.as_u64().expect("count"))
                .collect();
            assert_eq!(s.histogram.counts, counts, "{at}: histogram counts");
        }
        let top = q["top"].as_array().expect("top");
        for (ours, theirs) in c.top_values.iter().zip(top) {
            assert_eq!(
                ours.count as u64,
                theirs[1].as_u64().expect("n"),
                "{at}: value_counts"
            );
            match theirs[0].as_f64() {
                Some(v) => {
                    let parsed: f64 = ours.value.parse().expect("numeric value text");
                    assert!(close(parsed, v), "{at}: top value {} vs {v}", ours.value);
                }
                None => assert_eq!(
                    ours.value,
                    theirs[0].as_str().expect("text"),
                    "{at}: top value"
                ),
            }
        }
        if c.dtype == DataType::String {
            assert_eq!(c.top_values.len(), top.len(), "{at}: top values kept");
        }
    }
    assert!(described > 0, "{name}: no numeric column compared");
    eprintln!(
        "{name}: {} columns, {described} described, {}x{} corr, {}x{} cramers_v, {} target measures match pandas",
        p.columns.len(),
        p.correlations.numeric_columns.len(),
        p.correlations.numeric_columns.len(),
        p.correlations.categorical_columns.len(),
        p.correlations.categorical_columns.len(),
        t.features.len()
    );
    for (i, row) in p.correlations.pearson.iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            let what = format!(
                "{name}: corr({}, {})",
                p.correlations.numeric_columns[i], p.correlations.numeric_columns[j]
            );
            assert_close(&what, *v, &pd["corr"][i][j]);
        }
    }
    for (i, row) in p.correlations.cramers_v.iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            let what = format!(
                "{name}: cramers_v({}, {})",
                p.correlations.categorical_columns[i], p.correlations.categorical_columns[j]
            );
            assert_close(&what, *v, &pd["cramers_v"][i][j]);
        }
    }
    for f in &t.features {
        let what = format!("{name}: {} of {}", f.measure, f.column);
        let col = p.column(&f.column).expect("feature column");
        if f.value.is_none() && col.dtype == DataType::String {
            // too many categories for the rows: capstan declines to measure
            assert!(col.distinct * 5 > col.count, "{what}: undefined");
            continue;
        }
        assert_close(&what, f.value, &pd["target"][&f.column]);
    }
    p
}

#[test]
fn profiles_match_pandas() {
    let py = python();
    if !python_ready(&py) {
        return;
    }
    let adult = check(&py, "adult", "income_gt_50k");
    let auc = adult
        .target
        .as_ref()
        .and_then(|t| t.features.iter().find(|f| f.column == "age"))
        .expect("age measure");
    assert_eq!(auc.measure, "single_feature_auc");
    assert!(
        adult
            .findings
            .iter()
            .any(|f| f.kind == "high_correlation" || f.kind == "duplicate_rows"),
        "adult findings: {:?}",
        adult.findings
    );

    let bank = check(&py, "bank_marketing", "subscribed");
    let duration = bank
        .target
        .as_ref()
        .and_then(|t| t.features.iter().position(|f| f.column == "duration"))
        .expect("duration measure");
    assert!(duration < 3, "duration is among the strongest predictors");

    let housing = check(&py, "california_housing", "median_house_value");
    let ocean = housing
        .target
        .as_ref()
        .and_then(|t| t.features.iter().find(|f| f.column == "ocean_proximity"))
        .expect("ocean_proximity measure");
    assert_eq!(ocean.measure, "correlation_ratio");

    let titanic = check(&py, "titanic", "survived");
    let kinds: Vec<(&str, &str)> = titanic
        .findings
        .iter()
        .map(|f| (f.kind.as_str(), f.column.as_deref().unwrap_or("")))
        .collect();
    assert!(kinds.contains(&("mostly_missing", "cabin")), "{kinds:?}");
    assert!(kinds.contains(&("id_like", "name")), "{kinds:?}");

    check(&py, "telco_churn", "churn");
    let bike = check(&py, "bike_sharing_hourly", "cnt");
    let day = bike.column("dteday").expect("dteday");
    assert_eq!(day.dtype, DataType::Date);
    assert_eq!(
        day.time_range,
        Some(("2011-01-01".to_string(), "2012-12-31".to_string()))
    );
}
