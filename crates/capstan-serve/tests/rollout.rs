//! The rollout acceptance test: v1 champion, v2 shadow (comparison stats and log), v2 canary
//! at 20 % (sticky share), then a failing canary rolled back automatically; no client
//! request fails at any point.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use capstan_bundle::Bundle;
use capstan_frame::{DataType, Field};
use capstan_serve::{LogPolicy, RunningServer, ServeConfig};
use capstan_store::{LogQuery, Role, Store};
use common::*;
use serde_json::json;

fn config() -> ServeConfig {
    ServeConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        log: LogPolicy::Durable {
            queue: 4096,
            flush_ms: 2,
        },
        refresh: Duration::from_millis(100),
        ..ServeConfig::default()
    }
}

/// A challenger that fails on every request: it was trained with a column clients do not
/// send yet.
fn failing_bundle() -> Vec<u8> {
    let mut b = Bundle::from_bytes(&fixture("telco_linear_v1.capstan")).unwrap();
    b.manifest.input_schema.fields.push(Field {
        name: "loyalty_tier".to_string(),
        dtype: DataType::String,
        nullable: false,
    });
    b.to_bytes().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shadow_then_canary_then_automatic_rollback_without_failed_requests() {
    let dir = TempDir::new("rollout");
    let store = Arc::new(Store::open(&dir.0.join(".capstan")).unwrap());
    assert_eq!(
        register(&store, "churn", &fixture("telco_gbdt_v1.capstan")),
        1
    );
    assert_eq!(
        register(&store, "churn", &fixture("telco_linear_v1.capstan")),
        2
    );
    store
        .set_alias("churn", "champion", Some(1), &cli_change("first"))
        .unwrap();
    let (_, admin) = store.create_api_key("ops", Role::Admin).unwrap();
    let auth = format!("Bearer {admin}");

    let server = RunningServer::start(config(), store.clone()).await.unwrap();
    let addr = server.addr();
    let (header, lines) = telco_lines();

    let (st, auth2) = (store.clone(), auth.clone());
    let outcome = tokio::task::spawn_blocking(move || {
        let store = st;
        let admin_h = [("Authorization", auth2.as_str())];
        let mut failed = Vec::new();
        let mut check = |r: &Response, what: &str| {
            if r.status != 200 {
                failed.push(format!("{what}: {} {}", r.status, r.body));
            }
        };
        // Challenger in shadow.
        let r = put_json(addr, "/v1/models/churn/aliases/challenger", &admin_h, &json!({"version": 2, "reason": "try linear"}));
        check(&r, "alias");
        let r = put_json(addr, "/v1/models/churn/rollout", &admin_h, &json!({"mode": "shadow", "reason": "compare"}));
        check(&r, "shadow");
        for (i, line) in lines.iter().take(200).enumerate() {
            let r = predict_csv(addr, "churn", &header, line, &format!("k{i}"));
            check(&r, "shadow traffic");
            let v = r.json();
            assert_eq!(v["role"], "champion");
            assert_eq!(v["version"], 1);
        }
        // Shadow scoring runs after the response; wait for it to catch up.
        let mut shadow = json!(null);
        for _ in 0..100 {
            shadow = get(addr, "/v1/models/churn", &[]).json()["shadow"].clone();
            if shadow["n_rows"].as_u64() == Some(200) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(shadow["n_rows"], 200, "{shadow}");
        let agreement = shadow["agreement_rate"].as_f64().unwrap();
        assert!((0.5..=1.0).contains(&agreement), "{shadow}");

        // Canary at 20 %, sticky by request key.
        let r = put_json(addr, "/v1/models/churn/rollout", &admin_h, &json!({"mode": "canary", "canary_percent": 20.0, "max_error_rate": 0.05, "min_requests": 20, "reason": "canary"}));
        check(&r, "canary");
        let mut canary = 0;
        let mut roles = Vec::new();
        for (i, line) in lines.iter().skip(200).take(500).enumerate() {
            let r = predict_csv(addr, "churn", &header, line, &format!("user-{i}"));
            check(&r, "canary traffic");
            let role = r.json()["role"].as_str().unwrap_or_default().to_string();
            canary += usize::from(role == "canary");
            roles.push(role);
        }
        assert!((50..=150).contains(&canary), "canary share {canary}/500");
        // Sticky: the same keys go the same way again.
        for (i, line) in lines.iter().skip(200).take(50).enumerate() {
            let r = predict_csv(addr, "churn", &header, line, &format!("user-{i}"));
            check(&r, "sticky traffic");
            assert_eq!(r.json()["role"].as_str().unwrap(), roles[i], "key user-{i}");
        }

        // A failing canary: every canary request falls back to the champion, then the
        // error rate rolls it back.
        let failing = failing_bundle();
        let a = store.put_artifact(&failing).unwrap();
        let v3 = store
            .register_version("churn", &a.sha256, None, "needs loyalty_tier", &cli_change("v3"))
            .unwrap()
            .version;
        let r = put_json(addr, "/v1/models/churn/aliases/challenger", &admin_h, &json!({"version": v3}));
        check(&r, "alias v3");
        let r = put_json(addr, "/v1/models/churn/rollout", &admin_h, &json!({"mode": "canary", "canary_percent": 50.0, "max_error_rate": 0.05, "min_requests": 20}));
        check(&r, "canary v3");
        let mut rolled_back = false;
        let mut n_late = 0;
        for (i, line) in lines.iter().skip(1000).take(400).enumerate() {
            let r = predict_csv(addr, "churn", &header, line, &format!("late-{i}"));
            check(&r, "failing canary traffic");
            n_late += 1;
            assert_eq!(r.json()["role"], "champion");
            let m = get(addr, "/v1/models/churn", &[]).json();
            if m["rollout"]["mode"] == "off" {
                rolled_back = true;
                break;
            }
        }
        assert!(rolled_back, "no automatic rollback");

        // Switched on again, the same failing canary starts a fresh window and is rolled back
        // again (once the first rollback is in the registry).
        let rollbacks = |store: &Store| {
            store
                .audit_log(Some("churn"), 50)
                .unwrap()
                .iter()
                .filter(|e| e.action == "rollback")
                .count()
        };
        for _ in 0..200 {
            if rollbacks(&store) == 1 {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(rollbacks(&store), 1);
        let r = put_json(addr, "/v1/models/churn/rollout", &admin_h, &json!({"mode": "canary", "canary_percent": 50.0, "max_error_rate": 0.05, "min_requests": 20}));
        check(&r, "canary v3 again");
        let mut again = false;
        for (i, line) in lines.iter().skip(1400).take(400).enumerate() {
            let r = predict_csv(addr, "churn", &header, line, &format!("again-{i}"));
            check(&r, "failing canary traffic, second time");
            n_late += 1;
            if get(addr, "/v1/models/churn", &[]).json()["rollout"]["mode"] == "off" {
                again = true;
                break;
            }
        }
        assert!(again, "no second automatic rollback");
        assert!(n_late > 40, "each rollback needs 20 canary requests: {n_late}");
        (failed, v3, n_late)
    })
    .await
    .unwrap();
    let (failed, v3, n_late) = outcome;
    assert!(failed.is_empty(), "failed requests: {failed:?}");

    // The registry records the rollback, by the server, with the reason.
    let mut audit = Vec::new();
    for _ in 0..100 {
        audit = store.audit_log(Some("churn"), 10).unwrap();
        if audit.iter().filter(|e| e.action == "rollback").count() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rb = audit.iter().find(|e| e.action == "rollback").unwrap();
    assert_eq!(audit.iter().filter(|e| e.action == "rollback").count(), 2);
    assert!(rb.actor.contains("automatic"), "{rb:?}");
    assert!(rb.reason.contains("error rate"), "{rb:?}");
    assert_eq!(store.get_model("churn").unwrap().aliases["challenger"], v3);

    let metrics = get(addr, "/metrics", &[("Authorization", auth.as_str())]).body;
    assert!(
        metrics.contains("capstan_rollbacks_total{model=\"churn\"} 2"),
        "{metrics}"
    );

    server.shutdown().await.unwrap();
    // Durable log: every acknowledged prediction is there.
    let log = store.query_predictions(&LogQuery::default()).unwrap();
    let count = |role: &str| log.iter().filter(|r| r.role == role).count();
    assert_eq!(count("shadow"), 200);
    assert_eq!(count("champion") + count("canary"), 200 + 500 + 50 + n_late);
    assert_eq!(
        count("canary"),
        log.iter()
            .filter(|r| r.version == 2 && r.role == "canary")
            .count()
    );
    assert!(log.iter().all(|r| r.model == "churn" && r.latency_us > 0));
}
