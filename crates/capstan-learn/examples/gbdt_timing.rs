//! Release-mode GBDT timing: `cargo run --release -p capstan-learn --example gbdt_timing --
//! NAME|path.csv [leaves] [trees] [feature_fraction]`. A shared data set name loads
//! `../shared/data/NAME`; a CSV path is read as all-numeric with the target last (binary 0/1).
//! A feature fraction below 1 also bags 80% of rows. Prints the fit time, the best of 5 predict
//! times and fingerprints of the model JSON and predictions (to check results do not change).
//! Threads: `RAYON_NUM_THREADS`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Instant;

use capstan_frame::Matrix;
use capstan_learn::Task;
use capstan_learn::gbdt::{self, GbdtParams};

fn read_csv(path: &str) -> (Matrix, Vec<f64>) {
    let mut reader = csv::Reader::from_path(path).expect("csv");
    let headers: Vec<String> = reader
        .headers()
        .expect("headers")
        .iter()
        .map(String::from)
        .collect();
    let n_cols = headers.len() - 1;
    let (mut data, mut y) = (Vec::new(), Vec::new());
    for r in reader.records() {
        let r = r.expect("record");
        for j in 0..n_cols {
            data.push(r[j].parse::<f64>().unwrap_or(f64::NAN));
        }
        y.push(r[n_cols].parse::<f64>().expect("target"));
    }
    let n = y.len();
    (Matrix::new(n, headers[..n_cols].to_vec(), data), y)
}

fn fingerprint<T: Hash>(v: T) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map_or("california_housing", String::as_str);
    let leaves = args.get(2).map_or(31, |s| s.parse().expect("leaves"));
    let trees = args.get(3).map_or(100, |s| s.parse().expect("trees"));
    let feature_fraction = args
        .get(4)
        .map_or(1.0, |s| s.parse().expect("feature fraction"));
    let (x, y, task) = if name.ends_with(".csv") {
        let (x, y) = read_csv(name);
        (x, y, Task::Binary)
    } else {
        let d = support::load(name);
        (d.x, d.y, d.task)
    };
    let params = GbdtParams {
        n_trees: trees,
        num_leaves: leaves,
        feature_fraction,
        bagging_fraction: 0.8,
        bagging_freq: usize::from(feature_fraction < 1.0),
        ..GbdtParams::default()
    };
    let t = Instant::now();
    let model = gbdt::fit((&x, &y), None, task, &params, &mut |_| {}).expect("fit");
    let fit_s = t.elapsed().as_secs_f64();
    // best of 5 predictions over the training rows (the machine is shared)
    let mut pred_s = f64::INFINITY;
    let mut p = model.predict(&x);
    for _ in 0..5 {
        let t = Instant::now();
        p = model.predict(&x);
        pred_s = pred_s.min(t.elapsed().as_secs_f64());
    }
    let json = serde_json::to_string(&model).expect("json");
    let bits: Vec<u64> = p.values.iter().map(|v| v.to_bits()).collect();
    println!(
        "{name}: rows {} leaves {leaves} trees {} fit {fit_s:.3} s predict {pred_s:.3} s \
         model {:016x} preds {:016x}",
        x.n_rows,
        model.n_trees(),
        fingerprint(&json),
        fingerprint(&bits)
    );
}
