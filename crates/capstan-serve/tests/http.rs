//! The HTTP surface: health, errors by status and message, auth rules, limits, OpenAPI.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use capstan_serve::{LogPolicy, RunningServer, ServeConfig};
use capstan_store::{Role, Store};
use common::*;
use serde_json::json;

async fn start(dir: &TempDir, require_keys: bool) -> (RunningServer, Arc<Store>) {
    let store = Arc::new(Store::open(&dir.0.join(".capstan")).unwrap());
    register(&store, "churn", &fixture("telco_gbdt_v1.capstan"));
    register(&store, "other", &fixture("telco_linear_v1.capstan"));
    store
        .set_alias("churn", "champion", Some(1), &cli_change("t"))
        .unwrap();
    let config = ServeConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        log: LogPolicy::Off,
        max_body_bytes: 64 * 1024,
        max_rows: 10,
        require_keys,
        ..ServeConfig::default()
    };
    (
        RunningServer::start(config, store.clone()).await.unwrap(),
        store,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_name_the_problem_with_the_right_status() {
    let dir = TempDir::new("http");
    let (server, _store) = start(&dir, false).await;
    let addr = server.addr();
    tokio::task::spawn_blocking(move || {
        let (header, lines) = telco_lines();
        assert_eq!(get(addr, "/healthz", &[]).status, 200);
        assert_eq!(get(addr, "/readyz", &[]).status, 200);
        assert_eq!(get(addr, "/v2/health/ready", &[]).status, 200);
        let doc = get(addr, "/openapi.json", &[]).json();
        assert_eq!(doc["openapi"], "3.0.3");

        let r = predict_csv(addr, "nope", &header, &lines[0], "k");
        assert_eq!(r.status, 404);
        assert!(r.body.contains("churn"), "{}", r.body);

        // A model without a champion answers 404 with the command that fixes it.
        let r = predict_csv(addr, "other", &header, &lines[0], "k");
        assert_eq!(r.status, 404, "{}", r.body);
        assert!(
            r.body.contains("capstan models alias other champion"),
            "{}",
            r.body
        );
        // ... but its versions can be called directly.
        let body = format!("{header}\n{}\n", lines[0]);
        let r = request(
            addr,
            "POST",
            "/v1/models/other/versions/1/predict",
            &[("Content-Type", "text/csv")],
            body.as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["role"], "direct");
        let r = request(
            addr,
            "POST",
            "/v1/models/other/versions/9/predict",
            &[("Content-Type", "text/csv")],
            body.as_bytes(),
        );
        assert_eq!(r.status, 404, "{}", r.body);
        let r = request(
            addr,
            "POST",
            "/v1/models/other/versions/x/predict",
            &[("Content-Type", "text/csv")],
            body.as_bytes(),
        );
        assert_eq!(r.status, 400, "{}", r.body);

        let r = post_json(
            addr,
            "/v1/models/churn/predict",
            &[],
            &json!({"records": [{"tenure": 3}]}),
        );
        assert_eq!(r.status, 400);
        assert_eq!(r.json()["code"], "missing_column", "{}", r.body);

        let many = format!("{header}\n{}\n", lines[..11].join("\n"));
        let r = request(
            addr,
            "POST",
            "/v1/models/churn/predict",
            &[("Content-Type", "text/csv")],
            many.as_bytes(),
        );
        assert_eq!(r.status, 413, "{}", r.body);

        let big = vec![b' '; 70 * 1024];
        let r = request(
            addr,
            "POST",
            "/v1/models/churn/predict",
            &[("Content-Type", "application/json")],
            &big,
        );
        assert_eq!(r.status, 413);

        let r = request(
            addr,
            "POST",
            "/v1/models/churn/predict",
            &[
                ("Content-Type", "application/json"),
                ("Content-Encoding", "gzip"),
            ],
            b"\x1f\x8b",
        );
        assert_eq!(r.status, 415);
        assert!(r.body.contains("Content-Encoding"), "{}", r.body);

        // /invocations needs one model: two are served here.
        let r = post_json(addr, "/invocations", &[], &json!({"dataframe_records": []}));
        assert_eq!(r.status, 400);
        assert!(r.body.contains("--default-model"), "{}", r.body);

        assert_eq!(get(addr, "/v2/models/other/ready", &[]).status, 400);
        let r = get(addr, "/v1/log?version=null", &[]);
        assert_eq!(r.status, 400);
        assert_eq!(r.json()["code"], "bad_query");
        let meta = get(addr, "/v2/models/churn", &[]).json();
        assert_eq!(meta["name"], "churn");
        assert!(meta["inputs"].as_array().unwrap().len() > 5);

        // Mutations always need an admin key, even with keys not required.
        let r = put_json(
            addr,
            "/v1/models/churn/aliases/champion",
            &[],
            &json!({"version": 1}),
        );
        assert_eq!(r.status, 401, "{}", r.body);
        assert!(r.body.contains("capstan keys create"), "{}", r.body);
        assert_eq!(get(addr, "/nowhere", &[]).status, 404);
    })
    .await
    .unwrap();
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_and_roles_when_required() {
    let dir = TempDir::new("http-keys");
    let (server, store) = start(&dir, true).await;
    let (_, predict) = store.create_api_key("app", Role::Predict).unwrap();
    let (_, admin) = store.create_api_key("ops", Role::Admin).unwrap();
    let addr = server.addr();
    tokio::task::spawn_blocking(move || {
        let (header, lines) = telco_lines();
        let body = format!("{header}\n{}\n", lines[0]);
        let path = "/v1/models/churn/predict";
        let csv = ("Content-Type", "text/csv");
        assert_eq!(
            request(addr, "POST", path, &[csv], body.as_bytes()).status,
            401
        );
        let bearer = format!("Bearer {predict}");
        let r = request(
            addr,
            "POST",
            path,
            &[csv, ("Authorization", bearer.as_str())],
            body.as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let r = request(
            addr,
            "POST",
            path,
            &[csv, ("X-API-Key", predict.as_str())],
            body.as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let r = request(
            addr,
            "POST",
            path,
            &[csv, ("Authorization", "Bearer cap_wrong")],
            body.as_bytes(),
        );
        assert_eq!(r.status, 401);
        // A predict key cannot change the registry; an admin key can.
        let change = json!({"version": 1, "reason": "test"});
        let r = put_json(
            addr,
            "/v1/models/churn/aliases/stable",
            &[("Authorization", bearer.as_str())],
            &change,
        );
        assert_eq!(r.status, 403, "{}", r.body);
        let admin_h = format!("Bearer {admin}");
        let r = put_json(
            addr,
            "/v1/models/churn/aliases/stable",
            &[("Authorization", admin_h.as_str())],
            &change,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["audit"][0]["actor"], "api key 'ops'");
        // Health stays open for probes; metrics need a key.
        assert_eq!(get(addr, "/healthz", &[]).status, 200);
        assert_eq!(get(addr, "/metrics", &[]).status, 401);
        assert_eq!(
            get(addr, "/metrics", &[("Authorization", admin_h.as_str())]).status,
            200
        );
    })
    .await
    .unwrap();
    server.shutdown().await.unwrap();
}
