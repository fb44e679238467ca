//! Bad input gets a clear error, a non-zero exit code, and leaves no partial file or run.

mod common;

use std::path::Path;

use common::{capstan, files_under, telco, tempdir};

const BAD_INPUT: i32 = 3;
const BAD_MODEL: i32 = 4;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Asserts the failure and that the store holds no run afterwards.
fn assert_fails(dir: &Path, args: &[&str], code: i32, needles: &[&str]) {
    let before = files_under(&dir.join("store"));
    let run = capstan(dir, args);
    assert_eq!(run.code, code, "args {args:?}\nstderr: {}", run.stderr);
    for needle in needles {
        assert!(
            run.stderr.contains(needle),
            "stderr lacks '{needle}': {}",
            run.stderr
        );
    }
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let after = files_under(&dir.join("store"));
    let new_artifacts: Vec<_> = after
        .iter()
        .filter(|p| !before.contains(p) && !p.ends_with("capstan.db"))
        .collect();
    assert!(
        new_artifacts.iter().all(|p| p
            .extension()
            .is_some_and(|e| e == "db-wal" || e == "db-shm")),
        "left behind: {new_artifacts:?}"
    );
}

fn run_count(dir: &Path) -> usize {
    let list = capstan(dir, &["runs", "list", "--json"]);
    if list.code != 0 {
        return 0;
    }
    serde_json::from_str::<serde_json::Value>(&list.stdout)
        .expect("json")
        .as_array()
        .map(Vec::len)
        .unwrap_or(0)
}

#[test]
fn training_input_errors() {
    let dir = tempdir("train-errors");
    let telco = telco();
    assert_fails(
        &dir,
        &["train", "--data", s(&telco), "--target", "chrun"],
        BAD_INPUT,
        &["target column 'chrun' not found", "did you mean 'churn'"],
    );
    assert_fails(
        &dir,
        &["train", "--data", s(&telco)],
        BAD_INPUT,
        &["no target"],
    );

    let empty = dir.join("empty.csv");
    std::fs::write(&empty, "").expect("write");
    assert_fails(
        &dir,
        &["train", "--data", s(&empty), "--target", "y"],
        BAD_INPUT,
        &["empty.csv", "empty"],
    );

    let ragged = dir.join("ragged.csv");
    std::fs::write(&ragged, "a,b,y\n1,2,0\n3,4\n5,6,1\n").expect("write");
    assert_fails(
        &dir,
        &["train", "--data", s(&ragged), "--target", "y"],
        BAD_INPUT,
        &["ragged.csv", "row 3", "expected 3 fields"],
    );

    // A non-numeric value in a column the schema says is numeric names the row and column.
    let bad = dir.join("bad.csv");
    let mut text = std::fs::read_to_string(&telco).expect("read telco");
    text = text.replacen(",29.85,29.85,0", ",29.85,abc,0", 1);
    std::fs::write(&bad, text).expect("write");
    let schema = dir.join("schema.json");
    let infer = capstan(&dir, &["schema", "infer", s(&telco), "--out", s(&schema)]);
    assert_eq!(infer.code, 0, "{}", infer.stderr);
    assert_fails(
        &dir,
        &[
            "train",
            "--data",
            s(&bad),
            "--target",
            "churn",
            "--schema",
            s(&schema),
        ],
        BAD_INPUT,
        &[
            "bad.csv",
            "row 2",
            "column 'total_charges'",
            "expected float",
            "'abc'",
        ],
    );

    assert_fails(
        &dir,
        &[
            "train",
            "--data",
            s(&telco),
            "--target",
            "churn",
            "--threshold",
            "1.5",
        ],
        BAD_INPUT,
        &["threshold must be in (0, 1), found 1.5"],
    );

    let missing = dir.join("nope.csv");
    assert_fails(
        &dir,
        &["train", "--data", s(&missing), "--target", "y"],
        BAD_INPUT,
        &["nope.csv"],
    );

    let config = dir.join("bad.toml");
    std::fs::write(&config, "[gbdt]\nn_treez = 3\n").expect("write");
    assert_fails(
        &dir,
        &[
            "train",
            "--config",
            s(&config),
            "--data",
            s(&telco),
            "--target",
            "churn",
        ],
        BAD_INPUT,
        &["bad.toml", "n_treez"],
    );

    let out = dir.join("model.capstan");
    assert_fails(
        &dir,
        &[
            "train",
            "--data",
            s(&telco),
            "--target",
            "churn",
            "--learning-rate=-1",
            "--out",
            s(&out),
        ],
        BAD_INPUT,
        &["learning_rate"],
    );
    assert!(!out.exists(), "no bundle is written when training fails");
    assert_eq!(run_count(&dir), 0, "no run is recorded when training fails");
}

#[test]
fn predict_and_model_errors() {
    let dir = tempdir("predict-errors");
    let telco = telco();
    let model = dir.join("model.capstan");
    let train = capstan(
        &dir,
        &[
            "train",
            "--data",
            s(&telco),
            "--target",
            "churn",
            "--n-trees",
            "5",
            "--out",
            s(&model),
        ],
    );
    assert_eq!(train.code, 0, "{}", train.stderr);
    let out = dir.join("scores.csv");
    // Predicting fails with `code` and the message parts, and writes no output file.
    let predict_fails = |model: &str, data: &Path, code: i32, needles: &[&str]| {
        assert_fails(
            &dir,
            &[
                "predict",
                "--model",
                model,
                "--data",
                s(data),
                "--out",
                s(&out),
            ],
            code,
            needles,
        );
        assert!(!out.exists(), "a failed predict left {}", out.display());
    };

    // Input missing a training column.
    let text = std::fs::read_to_string(&telco).expect("read");
    let without_tenure: String = text
        .lines()
        .map(|l| {
            let mut f: Vec<&str> = l.split(',').collect();
            f.remove(4);
            f.join(",") + "\n"
        })
        .collect();
    let no_tenure = dir.join("no_tenure.csv");
    std::fs::write(&no_tenure, without_tenure).expect("write");
    predict_fails(s(&model), &no_tenure, BAD_INPUT, &["tenure"]);

    // A value of the wrong type in a numeric training column names row and column.
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        text.replacen(",1,No,No phone service", ",one,No,No phone service", 1),
    )
    .expect("write");
    predict_fails(
        s(&model),
        &bad,
        BAD_INPUT,
        &["row 2", "column 'tenure'", "'one'"],
    );

    // Corrupt, truncated and non-bundle files, and an unknown run id.
    let bytes = std::fs::read(&model).expect("read bundle");
    let corrupt = dir.join("corrupt.capstan");
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x20;
    std::fs::write(&corrupt, flipped).expect("write");
    predict_fails(
        s(&corrupt),
        &telco,
        BAD_MODEL,
        &["corrupt.capstan", "checksum"],
    );
    let truncated = dir.join("truncated.capstan");
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).expect("write");
    predict_fails(s(&truncated), &telco, BAD_MODEL, &["truncated.capstan"]);
    predict_fails(
        s(&telco),
        &telco,
        BAD_MODEL,
        &["not a capstan model bundle"],
    );
    predict_fails("0123456789ab", &telco, BAD_MODEL, &["0123456789ab"]);
    let no_store = tempdir("no-store");
    let run = capstan(
        &no_store,
        &[
            "predict",
            "--model",
            "0123456789ab",
            "--data",
            s(&telco),
            "--out",
            s(&out),
        ],
    );
    assert_eq!(run.code, BAD_MODEL, "{}", run.stderr);
    assert!(
        run.stderr.contains("neither a bundle file nor a run id"),
        "{}",
        run.stderr
    );

    // Evaluate with an unknown class label names the row.
    let relabelled = dir.join("relabelled.csv");
    std::fs::write(
        &relabelled,
        text.replacen(",29.85,29.85,0", ",29.85,29.85,maybe", 1),
    )
    .expect("write");
    assert_fails(
        &dir,
        &["evaluate", "--model", s(&model), "--data", s(&relabelled)],
        BAD_INPUT,
        &["row 2", "unknown class 'maybe'"],
    );
}
