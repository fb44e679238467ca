//! `--data postgres://... --query SQL` from the command line, against the real PostgreSQL
//! (see capstan-store's `tests/common/pg.rs`: skipped when unreachable outside CI, a
//! failure under CI): training records the query and the content hash in its lineage,
//! with no password anywhere, and predictions from the query equal those from the CSV.

mod common;
#[path = "../../capstan-store/tests/common/pg.rs"]
mod pg;

use std::io::Write;

use capstan_frame::ReadOptions;
use common::{capstan, shared_data, tempdir};

/// The columns of titanic.csv, in its order.
const COLUMNS: &str =
    "pclass, name, sex, age, sibsp, parch, ticket, fare, cabin, embarked, survived";

/// titanic.csv copied into `<schema>.titanic`, with an `id` keeping the file's order.
fn load_titanic(schema: &pg::PgSchema) {
    let s = &schema.name;
    let mut client = schema.client();
    client
        .batch_execute(&format!(
            "CREATE TABLE {s}.titanic (id bigserial PRIMARY KEY, pclass smallint, name text,
             sex varchar(10), age numeric, sibsp integer, parch bigint, ticket text,
             fare double precision, cabin text, embarked text, survived integer)"
        ))
        .expect("create table");
    let mut writer = client
        .copy_in(&format!(
            "COPY {s}.titanic ({COLUMNS}) FROM STDIN WITH (FORMAT csv, HEADER true)"
        ))
        .expect("copy in");
    let csv = std::fs::read(shared_data("titanic")).expect("read titanic.csv");
    writer.write_all(&csv).expect("copy rows");
    assert_eq!(writer.finish().expect("copy done"), 891);
}

/// The base URL with a password added to its user (trust auth ignores it), to check
/// that it is redacted everywhere; the base URL itself when it has no plain user.
fn url_with_password(base: &str) -> (String, Option<&'static str>) {
    const SECRET: &str = "s3cret-pw";
    let parts = base
        .split_once("://")
        .and_then(|(scheme, rest)| Some((scheme, rest.split_once('@')?)));
    match parts {
        Some((scheme, (user, host))) if !user.contains(':') => {
            (format!("{scheme}://{user}:{SECRET}@{host}"), Some(SECRET))
        }
        _ => (base.to_string(), None),
    }
}

#[test]
fn train_from_a_query_records_lineage_and_predicts_like_the_csv() {
    let Some(schema) = pg::PgSchema::new("cli_query") else {
        return;
    };
    load_titanic(&schema);
    let dir = tempdir("pg-source");
    let (url, secret) = url_with_password(&pg::base_url());
    let query = format!("SELECT {COLUMNS} FROM {}.titanic ORDER BY id", schema.name);
    let train = capstan(
        &dir,
        &[
            "train",
            "--data",
            &url,
            "--query",
            &query,
            "--target",
            "survived",
            "--drop",
            "name,ticket,cabin",
            "--n-trees",
            "40",
            "--json",
        ],
    );
    assert_eq!(train.code, 0, "train failed: {}", train.stderr);
    let report: serde_json::Value = serde_json::from_str(&train.stdout).expect("json report");
    let run_id = report["run_id"].as_str().expect("run id").to_string();
    assert_eq!(report["rows"], 891);

    let show = capstan(&dir, &["runs", "show", &run_id, "--json"]);
    assert_eq!(show.code, 0, "{}", show.stderr);
    if let Some(secret) = secret {
        assert!(
            !show.stdout.contains(secret),
            "password leaked: {}",
            show.stdout
        );
        assert!(!train.stdout.contains(secret) && !train.stderr.contains(secret));
    }
    let run: serde_json::Value = serde_json::from_str(&show.stdout).expect("run json");
    let lineage = &run["lineage"];
    assert_eq!(lineage["query"], query.as_str());
    assert_eq!(
        lineage["dataset_path"],
        capstan_io::redact_password(&url).as_str()
    );
    assert_eq!(lineage["config"]["query"], query.as_str());
    // The data hash of a query is the content hash of its result: the same as the CSV's
    // rows give, since the table holds the same typed values.
    let csv_frame =
        capstan_frame::read(&shared_data("titanic"), &ReadOptions::default()).expect("csv reads");
    let version = capstan_quality::version::dataset_version(&csv_frame, &Default::default());
    assert_eq!(lineage["dataset_sha256"], version.version.as_str());
    assert_eq!(run["dataset_sha256"], version.version.as_str());

    // Predictions from the query equal predictions from the CSV, value for value.
    let csv = shared_data("titanic");
    let from_csv = dir.join("from_csv.csv");
    let from_query = dir.join("from_query.csv");
    let p1 = capstan(
        &dir,
        &[
            "predict",
            "--model",
            &run_id,
            "--data",
            csv.to_str().expect("utf-8"),
            "--out",
            from_csv.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(p1.code, 0, "{}", p1.stderr);
    let p2 = capstan(
        &dir,
        &[
            "predict",
            "--model",
            &run_id,
            "--data",
            &url,
            "--query",
            &query,
            "--out",
            from_query.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(p2.code, 0, "{}", p2.stderr);
    let a = std::fs::read_to_string(&from_csv).expect("csv predictions");
    let b = std::fs::read_to_string(&from_query).expect("query predictions");
    assert_eq!(a.lines().count(), 892);
    assert_eq!(a, b);

    let evaluate = capstan(
        &dir,
        &[
            "evaluate", "--model", &run_id, "--data", &url, "--query", &query, "--json",
        ],
    );
    assert_eq!(evaluate.code, 0, "{}", evaluate.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn query_errors_are_clear_and_hide_the_password() {
    let Some(schema) = pg::PgSchema::new("cli_query_errors") else {
        return;
    };
    let dir = tempdir("pg-source-errors");
    let (url, secret) = url_with_password(&pg::base_url());
    let missing = format!("SELECT * FROM {}.no_such_table", schema.name);
    let run = capstan(
        &dir,
        &[
            "train", "--data", &url, "--query", &missing, "--target", "y",
        ],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("query failed") && run.stderr.contains("does not exist"),
        "{}",
        run.stderr
    );
    let unsupported = "SELECT now()::time AS t, 1 AS y";
    let run = capstan(
        &dir,
        &[
            "train",
            "--data",
            &url,
            "--query",
            unsupported,
            "--target",
            "y",
        ],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("column 't' has PostgreSQL type time, which capstan cannot read"),
        "{}",
        run.stderr
    );
    if let Some(secret) = secret {
        assert!(!run.stderr.contains(secret), "{}", run.stderr);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn query_and_url_go_together() {
    let dir = tempdir("pg-source-flags");
    let csv = shared_data("titanic");
    let csv = csv.to_str().expect("utf-8");
    let run = capstan(
        &dir,
        &[
            "train", "--data", csv, "--query", "SELECT 1", "--target", "survived",
        ],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("--query needs --data postgres://... (a PostgreSQL URL)"),
        "{}",
        run.stderr
    );
    let run = capstan(
        &dir,
        &[
            "predict",
            "--model",
            "no-such-run",
            "--data",
            "postgres://me:pw@127.0.0.1:5432/test",
            "--out",
            "x.csv",
        ],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("a PostgreSQL source needs --query"),
        "{}",
        run.stderr
    );
    let run = capstan(
        &dir,
        &[
            "train",
            "--data",
            "postgres://me:pw@127.0.0.1:5432/test",
            "--target",
            "survived",
        ],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("postgres://me:***@127.0.0.1:5432/test: a PostgreSQL source needs --query"),
        "{}",
        run.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}
