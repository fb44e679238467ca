#[path = "gbdt_support.rs"]
mod support;
use capstan_learn::gbdt::{self, GbdtParams};
use support::*;

#[test]
#[ignore]
fn dump() {
    let name = std::env::var("DS").unwrap_or("adult".into());
    let rounds: usize = std::env::var("ROUNDS").map(|s| s.parse().unwrap()).unwrap_or(1);
    let d = load(&name);
    let (train_rows, test_rows) = split(d.x.n_rows, 0.2, 42);
    let (xtr, ytr) = subset(&d, &train_rows);
    let (xte, yte) = subset(&d, &test_rows);
    let params = GbdtParams { n_trees: rounds, ..GbdtParams::default() };
    let model = gbdt::fit((&xtr, &ytr), None, d.task, &params, &mut |_| {}).expect("fit");
    std::fs::write("/tmp/ours.json", serde_json::to_string_pretty(&model).unwrap()).unwrap();
    let _ = (xte, yte);
    let dir = std::path::Path::new("/tmp/gbdt_dbg");
    std::fs::create_dir_all(dir).unwrap();
    support::write_csv_pub(&dir.join("train.csv"), &xtr, &ytr);
    std::fs::write(dir.join("cats.json"), format!("{:?}", categorical_columns(&xtr))).unwrap();
}
