//! Cleaning on real data: text read as numbers (telco_churn total_charges), clipping
//! (california_housing), duplicate rows (adult); fitted state survives JSON and transforms
//! new rows exactly as at fit time.

mod common;

use std::process::Command;

use capstan_features::{
    CleanSpec, ClipSpec, ColumnTransform, FittedPipeline, PipelineMode, PipelineSpec,
};
use capstan_frame::{Frame, Matrix, ReadOptions};
use common::*;

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn round_trip(p: &FittedPipeline) -> FittedPipeline {
    let json = serde_json::to_string(p).expect("serialize pipeline");
    let back: FittedPipeline = serde_json::from_str(&json).expect("deserialize pipeline");
    assert_eq!(&back, p);
    back
}

fn same_matrix(a: &Matrix, b: &Matrix) {
    assert_eq!(a.feature_names, b.feature_names);
    assert_eq!(bits(&a.data), bits(&b.data));
}

/// telco_churn as IBM published it: the 11 customers with tenure 0 have a total charge of
/// a single space, which our copy stores as an empty field. Written back with the space.
fn telco_with_spaces() -> std::path::PathBuf {
    let src = data_dir().join("telco_churn/telco_churn.csv");
    let mut reader = csv::Reader::from_path(&src).expect("open telco_churn.csv");
    let headers = reader.headers().expect("header").clone();
    let col = headers
        .iter()
        .position(|h| h == "total_charges")
        .expect("total_charges column");
    let path = temp_dir("telco").join("telco_spaces.csv");
    let mut writer = csv::Writer::from_path(&path).expect("create csv");
    writer.write_record(&headers).expect("write header");
    for record in reader.records() {
        let record = record.expect("csv record");
        let row: Vec<&str> = record
            .iter()
            .enumerate()
            .map(|(j, v)| if j == col && v.is_empty() { " " } else { v })
            .collect();
        writer.write_record(&row).expect("write row");
    }
    writer.flush().expect("flush csv");
    path
}

fn spec_with(clean: CleanSpec) -> PipelineSpec {
    PipelineSpec {
        clean,
        ..PipelineSpec::default()
    }
}

#[test]
fn telco_total_charges_is_read_as_numbers() {
    let path = telco_with_spaces();
    let frame = capstan_frame::read(&path, &ReadOptions::default()).expect("read telco");
    let text = frame.column("total_charges").expect("column");
    assert_eq!(text.dtype(), capstan_frame::DataType::String);
    let original = load_dataset("telco_churn");
    assert_eq!(
        original.column("total_charges").map(|c| c.dtype()),
        Some(capstan_frame::DataType::Float)
    );
    let n_train = frame.n_rows() * 7 / 10;
    let train = frame.take(&(0..n_train).collect::<Vec<_>>());
    let new_rows = frame.take(&(n_train..frame.n_rows()).collect::<Vec<_>>());
    let new_original = original.take(&(n_train..frame.n_rows()).collect::<Vec<_>>());

    // Off: the text column is a category.
    let p = FittedPipeline::fit(
        &PipelineSpec::default(),
        PipelineMode::Tree,
        &train,
        &["churn"],
    )
    .expect("fit without coerce");
    assert!(
        p.columns
            .iter()
            .any(|t| matches!(t, ColumnTransform::Categorical(c) if c.column == "total_charges"))
    );

    let spec = spec_with(CleanSpec {
        coerce: true,
        ..CleanSpec::default()
    });
    for mode in [PipelineMode::Tree, PipelineMode::Linear] {
        let (p, report) = FittedPipeline::fit_with_report(&spec, mode, &frame, &["churn"])
            .expect("fit with coerce");
        assert_eq!(report.coerced.len(), 1, "{report:?}");
        let c = &report.coerced[0];
        assert_eq!(c.column, "total_charges");
        assert_eq!((c.n_values, c.n_changed), (7043, 11));
        assert_eq!(c.examples, vec![(" ".to_string(), 11)]);
        assert_eq!(
            report.lines(),
            vec![
                "column 'total_charges': read as numbers; 11 of 7043 values not numbers set \
                 to missing (' ' x11)"
            ]
        );
        // Other text columns stay categories: no digits there.
        assert!(
            p.columns
                .iter()
                .any(|t| matches!(t, ColumnTransform::Categorical(c) if c.column == "gender"))
        );
        let line = p
            .describe()
            .into_iter()
            .find(|l| l.starts_with("total_charges"))
            .expect("described");
        assert!(line.contains("numeric (string, read as numbers)"), "{line}");
    }

    // Fit on training rows; new rows transform the same after a JSON round trip, and the
    // same whether the column arrives as text or as numbers.
    for mode in [PipelineMode::Tree, PipelineMode::Linear] {
        let p = FittedPipeline::fit(&spec, mode, &train, &["churn"]).expect("fit");
        let back = round_trip(&p);
        let m = p.transform(&new_rows).expect("transform text");
        same_matrix(
            &m,
            &back.transform(&new_rows).expect("transform after JSON"),
        );
        same_matrix(
            &m,
            &back.transform(&new_original).expect("transform numbers"),
        );
        if mode == PipelineMode::Tree {
            let coerced = column(&m, "total_charges");
            let floats = original.column("total_charges").expect("column");
            for (k, v) in coerced.iter().enumerate() {
                match floats.f64_at(n_train + k) {
                    Some(x) => assert_eq!(v.to_bits(), x.to_bits(), "row {}", n_train + k),
                    None => assert!(v.is_nan(), "row {}", n_train + k),
                }
            }
            // Row by row (serving) equals the batch.
            for i in [0, 1, 100, new_rows.n_rows() - 1] {
                let one = p.transform(&new_rows.take(&[i])).expect("one row");
                assert_eq!(
                    bits(&one.data),
                    bits(&m.data[i * m.n_cols..(i + 1) * m.n_cols])
                );
            }
        }
    }
}

/// numpy's `quantile` of each column's non-missing training values, or `None` without python.
fn numpy_quantiles(columns: &[(String, Vec<f64>)], qs: &[f64]) -> Option<Vec<Vec<f64>>> {
    let python = python_with_sklearn()?;
    let dir = temp_dir("clip-oracle");
    let input = dir.join("values.txt");
    let mut text = String::new();
    for (_, values) in columns {
        let finite: Vec<String> = values
            .iter()
            .filter(|v| v.is_finite())
            .map(|v| format!("{v:?}"))
            .collect();
        text.push_str(&finite.join(" "));
        text.push('\n');
    }
    std::fs::write(&input, text).expect("write oracle input");
    let qs_text: Vec<String> = qs.iter().map(|q| format!("{q:?}")).collect();
    let script = format!(
        "import sys, numpy as np\n\
         for line in open(sys.argv[1]).read().splitlines():\n    \
             v = np.array(line.split(), dtype=float)\n    \
             print(' '.join(repr(float(x)) for x in np.quantile(v, [{}])))\n",
        qs_text.join(", ")
    );
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(&input)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split(' ').map(|x| x.parse().expect("float")).collect())
            .collect(),
    )
}

fn numeric_values(frame: &Frame, name: &str) -> Vec<f64> {
    let col = frame.column(name).expect("column");
    (0..frame.n_rows())
        .map(|i| col.f64_at(i).unwrap_or(f64::NAN))
        .collect()
}

#[test]
fn california_clipping_fits_on_training_rows() {
    let frame = load_dataset("california_housing");
    let target = "median_house_value";
    let n_train = frame.n_rows() * 7 / 10;
    let train = frame.take(&(0..n_train).collect::<Vec<_>>());
    let new_rows = frame.take(&(n_train..frame.n_rows()).collect::<Vec<_>>());
    let numeric = [
        "longitude",
        "latitude",
        "housing_median_age",
        "total_rooms",
        "total_bedrooms",
        "population",
        "households",
        "median_income",
    ];
    let quantile = ClipSpec::Quantile {
        lower: 0.01,
        upper: 0.99,
        columns: None,
    };
    let iqr = ClipSpec::Iqr {
        k: 1.5,
        columns: Some(vec!["total_rooms".into(), "population".into()]),
    };
    let values: Vec<(String, Vec<f64>)> = numeric
        .iter()
        .map(|&n| (n.to_string(), numeric_values(&train, n)))
        .collect();
    let oracle = numpy_quantiles(&values, &[0.01, 0.99, 0.25, 0.75]);

    for (clip, mode) in [
        (&quantile, PipelineMode::Tree),
        (&quantile, PipelineMode::Linear),
        (&iqr, PipelineMode::Tree),
    ] {
        let spec = spec_with(CleanSpec {
            clip: Some(clip.clone()),
            ..CleanSpec::default()
        });
        let (p, report) =
            FittedPipeline::fit_with_report(&spec, mode, &train, &[target]).expect("fit clip");
        let expected: Vec<&str> = match clip {
            ClipSpec::Quantile { .. } => numeric.to_vec(),
            ClipSpec::Iqr { .. } => vec!["total_rooms", "population"],
        };
        let clipped: Vec<&str> = report.clipped.iter().map(|c| c.column.as_str()).collect();
        assert_eq!(clipped, expected);
        for c in &report.clipped {
            let (j, (_, v)) = values
                .iter()
                .enumerate()
                .find(|(_, (n, _))| *n == c.column)
                .expect("known column");
            // The counts are what the bounds change in the training values.
            assert_eq!(c.n_below, v.iter().filter(|&&x| x < c.lower).count());
            assert_eq!(c.n_above, v.iter().filter(|&&x| x > c.upper).count());
            match clip {
                ClipSpec::Quantile { .. } => {
                    // 1 % each side, up to ties.
                    let n = v.iter().filter(|x| !x.is_nan()).count() as f64;
                    assert!(c.n_below as f64 <= 0.01 * n + 1.0, "{c:?}");
                    assert!(c.n_above as f64 <= 0.01 * n + 1.0, "{c:?}");
                    assert!(c.n_below + c.n_above > 0, "{c:?}");
                    if let Some(q) = &oracle {
                        assert_eq!((c.lower, c.upper), (q[j][0], q[j][1]), "{}", c.column);
                    }
                }
                ClipSpec::Iqr { .. } => {
                    if let Some(q) = &oracle {
                        let (q1, q3) = (q[j][2], q[j][3]);
                        assert_eq!(c.lower, q1 - 1.5 * (q3 - q1), "{}", c.column);
                        assert_eq!(c.upper, q3 + 1.5 * (q3 - q1), "{}", c.column);
                    }
                }
            }
        }
        let described = p.describe().join("\n");
        assert!(
            described.contains("total_rooms: numeric (integer), clipped to ["),
            "{described}"
        );
        let back = round_trip(&p);
        let m = p.transform(&new_rows).expect("transform new rows");
        same_matrix(&m, &back.transform(&new_rows).expect("after JSON"));
        if mode == PipelineMode::Tree {
            // New rows are clipped with the training bounds, missing values stay missing.
            for c in &report.clipped {
                let raw = numeric_values(&new_rows, &c.column);
                for (x, y) in raw.iter().zip(column(&m, &c.column)) {
                    let want = if x.is_nan() {
                        f64::NAN
                    } else {
                        x.clamp(c.lower, c.upper)
                    };
                    assert_eq!(want.to_bits(), y.to_bits(), "{}", c.column);
                }
            }
        }
    }
}

#[test]
fn clean_settings_are_checked() {
    let frame = load_dataset("california_housing");
    let target = ["median_house_value"];
    let fit = |clip: ClipSpec| {
        let spec = spec_with(CleanSpec {
            clip: Some(clip),
            ..CleanSpec::default()
        });
        FittedPipeline::fit(&spec, PipelineMode::Tree, &frame, &target)
            .expect_err("bad clip")
            .to_string()
    };
    let cols = |c: &[&str]| Some(c.iter().map(|s| s.to_string()).collect());
    let err = fit(ClipSpec::Iqr {
        k: 1.5,
        columns: cols(&["rooms"]),
    });
    assert!(
        err.contains("clean.clip.columns names column 'rooms'"),
        "{err}"
    );
    let err = fit(ClipSpec::Iqr {
        k: 1.5,
        columns: cols(&["ocean_proximity"]),
    });
    assert!(
        err.contains("'ocean_proximity' (string): expected an integer"),
        "{err}"
    );
    let err = fit(ClipSpec::Iqr {
        k: 1.5,
        columns: cols(&["median_house_value"]),
    });
    assert!(err.contains("not an input of the pipeline"), "{err}");
    let err = fit(ClipSpec::Quantile {
        lower: 0.9,
        upper: 0.1,
        columns: None,
    });
    assert!(err.contains("0 <= lower < upper <= 1"), "{err}");
    let err = fit(ClipSpec::Iqr {
        k: -1.0,
        columns: None,
    });
    assert!(err.contains("k >= 0"), "{err}");
}

#[test]
fn clean_section_is_optional_in_json() {
    // Older specs and bundles have no `clean`; specs without cleaning write none.
    let json = serde_json::to_value(PipelineSpec::default()).expect("serialize");
    assert!(json.get("clean").is_none(), "{json}");
    let spec: PipelineSpec = serde_json::from_str(r#"{"scale": false}"#).expect("old spec");
    assert_eq!(spec.clean, CleanSpec::default());
    let spec: PipelineSpec =
        serde_json::from_str(r#"{"clean": {"dedup": true, "clip": {"method": "iqr"}}}"#)
            .expect("clean spec");
    assert!(spec.clean.dedup);
    assert_eq!(
        spec.clean.clip,
        Some(ClipSpec::Iqr {
            k: 1.5,
            columns: None
        })
    );
    let spec: PipelineSpec =
        serde_json::from_str(r#"{"clean": {"clip": {"method": "quantile"}}}"#).expect("defaults");
    assert_eq!(
        spec.clean.clip,
        Some(ClipSpec::Quantile {
            lower: 0.01,
            upper: 0.99,
            columns: None
        })
    );
    let err =
        serde_json::from_str::<PipelineSpec>(r#"{"clean": {"clip": {"method": "iqr", "q": 1}}}"#)
            .expect_err("unknown field");
    assert!(err.to_string().contains("unknown field `q`"), "{err}");
}

/// `clean.dedup` keeps these rows (capstan_frame's one duplicate finder).
fn unique_rows(frame: &capstan_frame::Frame) -> Vec<usize> {
    let columns: Vec<&capstan_frame::Column> = frame.columns().iter().collect();
    capstan_frame::unique_rows(&columns, frame.n_rows())
}

#[test]
fn adult_duplicate_rows() {
    let path = data_dir().join("adult/adult.csv");
    let frame = load_dataset("adult");
    let keep = unique_rows(&frame);
    let dropped = frame.n_rows() - keep.len();
    assert!(dropped > 0, "adult has repeated rows");
    let kept = frame.take(&keep);
    assert_eq!(
        unique_rows(&kept).len(),
        kept.n_rows(),
        "kept rows are distinct"
    );
    assert!(
        keep.windows(2).all(|w| w[0] < w[1]),
        "first occurrences, in order"
    );
    if let Some(python) = python_with_sklearn() {
        let out = Command::new(python)
            .arg("-c")
            .arg(
                "import sys, pandas as pd\n\
                 print(int(pd.read_csv(sys.argv[1], keep_default_na=False, na_values=['']).duplicated().sum()))",
            )
            .arg(&path)
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pandas: usize = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("count");
        assert_eq!(dropped, pandas, "pandas duplicated().sum()");
    }
}
