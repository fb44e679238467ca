//! `capstan predict --leaves`: one `leaf_<t>` column per tree after the predictions; a
//! linear bundle is refused (exit 3) and nothing is written.

mod common;

use common::{capstan, telco, tempdir};

#[test]
fn leaves_follow_the_predictions_and_linear_models_are_refused() {
    let dir = tempdir("predict-leaves");
    let data = telco();
    let data = data.to_str().expect("utf-8 path");
    let train = |model: &str, out: &str| {
        let run = capstan(
            &dir,
            &[
                "train",
                "--data",
                data,
                "--target",
                "churn",
                "--model",
                model,
                "--n-trees",
                "12",
                "--num-leaves",
                "7",
                "--out",
                out,
            ],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
    };
    train("gbdt", "gbdt.capstan");
    let run = capstan(
        &dir,
        &[
            "predict",
            "--model",
            "gbdt.capstan",
            "--data",
            data,
            "--out",
            "p.csv",
            "--keep",
            "gender",
            "--leaves",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(dir.join("p.csv")).expect("predictions");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let leaf_names: Vec<String> = (0..12).map(|t| format!("leaf_{t}")).collect();
    assert_eq!(
        header,
        [
            vec!["gender", "prediction", "proba_0", "proba_1"],
            leaf_names.iter().map(String::as_str).collect()
        ]
        .concat()
    );
    let mut seen = vec![std::collections::BTreeSet::new(); 12];
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        for (t, cell) in cells[4..].iter().enumerate() {
            let leaf: u32 = cell
                .parse()
                .unwrap_or_else(|_| panic!("leaf '{cell}' in {line}"));
            assert!(leaf < 7, "leaf {leaf} of a 7-leaf tree");
            seen[t].insert(leaf);
        }
    }
    assert!(seen.iter().all(|s| s.len() > 1), "{seen:?}");

    train("linear", "linear.capstan");
    let refused = capstan(
        &dir,
        &[
            "predict",
            "--model",
            "linear.capstan",
            "--data",
            data,
            "--out",
            "q.csv",
            "--leaves",
        ],
    );
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("--leaves: cannot predict: leaf indices need a tree model"),
        "{}",
        refused.stderr
    );
    assert!(!dir.join("q.csv").exists());
}
