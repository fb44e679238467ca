//! Time-ordered training on real hourly data: the test rows are the latest, early stopping
//! watches the latest training rows, and CV uses expanding windows.

mod common;

use capstan_cli::config::{SplitMethod, TrainConfig};
use capstan_cli::training;
use capstan_frame::ReadOptions;

#[test]
fn time_split_holds_out_the_latest_rows() {
    let data = common::shared_data("bike_sharing_hourly");
    let mut cfg = TrainConfig {
        data: Some(data.clone()),
        target: Some("cnt".into()),
        ..TrainConfig::default()
    };
    cfg.split.method = SplitMethod::Time;
    cfg.split.time_column = Some("dteday".into());
    cfg.split.cv_folds = 3;
    cfg.gbdt.n_trees = 300;
    cfg.gbdt.early_stopping_rounds = Some(10);
    let outcome = training::train(&cfg, &mut |_| {}).expect("train");

    let frame = capstan_frame::read(&data, &ReadOptions::default()).expect("read");
    let dates = frame.column("dteday").expect("dteday");
    let day = |i: usize| dates.f64_at(i).expect("no null dates");
    let mut all: Vec<f64> = (0..frame.n_rows()).map(day).collect();
    all.sort_by(f64::total_cmp);
    let cutoff = all[outcome.n_train - 1];
    assert_eq!(outcome.n_test, outcome.test_rows.len());
    assert!(
        outcome.test_rows.iter().all(|&i| day(i) >= cutoff),
        "a test row predates the cutoff"
    );
    assert!(
        outcome.test_rows.windows(2).all(|w| day(w[0]) <= day(w[1])),
        "test rows are in time order"
    );

    let best = outcome.best_iteration.expect("early stopping ran");
    assert!(best < 300);
    assert_eq!(outcome.cv_folds.len(), 3);
    for split in ["train", "valid", "test", "cv_mean"] {
        assert!(outcome.metrics[split]["rmse"].is_finite(), "{split}");
    }
    // Demand grows over the two years: later rows are harder than a random part of train.
    assert!(outcome.metrics["valid"]["rmse"] > outcome.metrics["train"]["rmse"]);
}
