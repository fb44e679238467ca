//! Row rules carried in a bundle are checked on live traffic: violations are counted in
//! `/metrics` per column and rule, and the rows are still scored.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use capstan_bundle::Bundle;
use capstan_quality::rules::RuleSet;
use capstan_serve::{LogPolicy, RunningServer, ServeConfig};
use capstan_store::Store;
use common::*;

const RULES: &str = "\
[columns.tenure]
max = 12
[columns.contract]
allowed = [\"Month-to-month\", \"One year\"]
[columns.total_charges]
not_null = true
[columns.payment_method]
regex = { value = \"check$\", severity = \"warn\" }
[columns.churn]
not_null = true
";

/// The gbdt fixture with `RULES` (row rules as JSON) in its manifest.
fn bundle_with_rules() -> Vec<u8> {
    let mut bundle = Bundle::from_bytes(&fixture("telco_gbdt_v1.capstan")).unwrap();
    let rules = RuleSet::parse(RULES, "rules.toml").unwrap().row_rules();
    bundle.manifest.rules = Some(serde_json::to_value(&rules).unwrap());
    bundle.to_bytes().unwrap()
}

async fn start(dir: &TempDir) -> RunningServer {
    let store = Arc::new(Store::open(&dir.0.join(".capstan")).unwrap());
    register(&store, "churn", &bundle_with_rules());
    register(&store, "churn", &fixture("telco_gbdt_v1.capstan"));
    store
        .set_alias("churn", "champion", Some(1), &cli_change("t"))
        .unwrap();
    let config = ServeConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        log: LogPolicy::Off,
        ..ServeConfig::default()
    };
    RunningServer::start(config, store).await.unwrap()
}

/// The value of one series in a Prometheus text page, 0 when absent.
fn sample(page: &str, series: &str) -> f64 {
    page.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.strip_prefix(' ')))
        .map_or(0.0, |v| v.parse().unwrap())
}

fn series(column: &str, rule: &str, version: u32) -> String {
    format!(
        "capstan_rule_violations_total{{model=\"churn\",version=\"{version}\",column=\"{column}\",rule=\"{rule}\"}}"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn violations_are_counted_and_rows_still_scored() {
    let dir = TempDir::new("rules");
    let server = start(&dir).await;
    let addr = server.addr();
    tokio::task::spawn_blocking(move || {
        let (header, lines) = telco_lines();
        let names: Vec<&str> = header.split(',').collect();
        let col = |name: &str| names.iter().position(|n| *n == name).unwrap();
        // expected counts, from the CSV text
        let batch = &lines[..200];
        let count = |f: &dyn Fn(&[&str]) -> bool| -> f64 {
            batch
                .iter()
                .filter(|l| f(&l.split(',').collect::<Vec<_>>()))
                .count() as f64
        };
        let tenure = count(&|c| c[col("tenure")].parse::<i64>().unwrap() > 12);
        let contract = count(&|c| c[col("contract")] == "Two year");
        let total = count(&|c| c[col("total_charges")].trim().is_empty());
        let payment = count(&|c| !c[col("payment_method")].ends_with("check"));
        assert!(tenure > 0.0 && contract > 0.0 && payment > 0.0);

        // one request of 150 rows, one of 50: counts add up
        for part in [&batch[..150], &batch[150..]] {
            let body = format!("{header}\n{}\n", part.join("\n"));
            let r = request(
                addr,
                "POST",
                "/v1/models/churn/predict",
                &[("Content-Type", "text/csv")],
                body.as_bytes(),
            );
            assert_eq!(r.status, 200, "{}", r.body);
            assert_eq!(
                r.json()["predictions"].as_array().map(Vec::len),
                Some(part.len())
            );
        }
        // version 2 has no rules: scoring it counts nothing
        let body = format!("{header}\n{}\n", batch.join("\n"));
        let r = request(
            addr,
            "POST",
            "/v1/models/churn/versions/2/predict",
            &[("Content-Type", "text/csv")],
            body.as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.body);

        let page = get(addr, "/metrics", &[]).body;
        assert!(page.contains("# TYPE capstan_rule_violations_total counter"));
        assert_eq!(sample(&page, &series("tenure", "max", 1)), tenure);
        assert_eq!(sample(&page, &series("contract", "allowed", 1)), contract);
        assert_eq!(
            sample(&page, &series("total_charges", "not_null", 1)),
            total
        );
        assert_eq!(
            sample(&page, &series("payment_method", "regex", 1)),
            payment
        );
        // the target is not an input: its rule is never checked
        assert!(!page.contains("column=\"churn\""), "{page}");
        assert!(!page.contains("version=\"2\",column="), "{page}");
    })
    .await
    .unwrap();
    server.shutdown().await.unwrap();
}
