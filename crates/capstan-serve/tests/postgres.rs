//! Two server processes on one PostgreSQL store: an alias change made through one is
//! served by both, and both write the shared prediction log.
#![allow(clippy::unwrap_used)]

mod common;
#[path = "../../capstan-store/tests/common/pg.rs"]
mod pg;

use std::sync::Arc;
use std::time::Duration;

use capstan_serve::{LogPolicy, RunningServer, ServeConfig};
use capstan_store::{LogQuery, Role, Store};
use common::*;
use serde_json::json;

fn config() -> ServeConfig {
    ServeConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        log: LogPolicy::Durable {
            queue: 1024,
            flush_ms: 2,
        },
        refresh: Duration::from_millis(100),
        ..ServeConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_aliases_and_the_log() {
    // The sync PostgreSQL client must not run on a runtime thread: set up on the blocking pool.
    let setup = tokio::task::spawn_blocking(|| {
        let schema = pg::PgSchema::new("two_servers")?;
        let url = schema.url();
        let store = Store::open_location(&url).unwrap();
        register(&store, "churn", &fixture("telco_gbdt_v1.capstan"));
        register(&store, "churn", &fixture("telco_linear_v1.capstan"));
        store
            .set_alias("churn", "champion", Some(1), &cli_change("first"))
            .unwrap();
        let (_, admin) = store.create_api_key("ops", Role::Admin).unwrap();
        let a = Arc::new(Store::open_location(&url).unwrap());
        let b = Arc::new(Store::open_location(&url).unwrap());
        Some((schema, Arc::new(store), admin, a, b))
    })
    .await
    .unwrap();
    let Some((schema, setup, admin, store_a, store_b)) = setup else {
        return;
    };

    // Each server has its own store handle (its own connection), as two processes would.
    let a = RunningServer::start(config(), store_a).await.unwrap();
    let b = RunningServer::start(config(), store_b).await.unwrap();
    let (addr_a, addr_b) = (a.addr(), b.addr());
    tokio::task::spawn_blocking(move || {
        let (header, lines) = telco_lines();
        for (i, line) in lines.iter().take(10).enumerate() {
            for addr in [addr_a, addr_b] {
                let r = predict_csv(addr, "churn", &header, line, &format!("k{i}"));
                assert_eq!(r.status, 200, "{}", r.body);
                assert_eq!(r.json()["version"], 1);
            }
        }
        // Promote version 2 through server A; server B follows within its refresh.
        let auth = format!("Bearer {admin}");
        let r = put_json(
            addr_a,
            "/v1/models/churn/aliases/champion",
            &[("Authorization", auth.as_str())],
            &json!({"version": 2, "reason": "linear wins"}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let r = predict_csv(addr_a, "churn", &header, &lines[0], "x");
        assert_eq!(
            r.json()["version"],
            2,
            "server A serves the new champion at once"
        );
        let mut seen = 0;
        for _ in 0..100 {
            let r = predict_csv(addr_b, "churn", &header, &lines[0], "x");
            assert_eq!(r.status, 200, "{}", r.body);
            seen = r.json()["version"].as_u64().unwrap();
            if seen == 2 {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(seen, 2, "server B never picked up the alias change");
    })
    .await
    .unwrap();
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();

    tokio::task::spawn_blocking(move || {
        let log = setup.query_predictions(&LogQuery::default()).unwrap();
        let v1 = log.iter().filter(|r| r.version == 1).count();
        assert!(
            v1 >= 20,
            "10 rows through each server, then B's polls: {v1}"
        );
        assert!(log.iter().filter(|r| r.version == 2).count() >= 2);
        let ids: std::collections::BTreeSet<_> = log.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids.len(),
            log.len(),
            "prediction ids are unique across servers"
        );
        let audit = setup.audit_log(Some("churn"), 5).unwrap();
        assert_eq!(audit[0].actor, "api key 'ops'");
        assert_eq!(audit[0].reason, "linear wins");
        drop(schema);
    })
    .await
    .unwrap();
}
