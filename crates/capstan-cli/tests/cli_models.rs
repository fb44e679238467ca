//! The registry, api keys and the prediction log from the command line:
//! train -> register -> alias -> rollout -> promote -> rollback, with the audit trail, and
//! the failure paths, each with its exit code, its message, and nothing half-written.

mod common;

use std::path::{Path, PathBuf};

use common::{Run, capstan, repo_root, telco, tempdir};
use serde_json::Value;

const BAD_INPUT: i32 = 3;
const BAD_MODEL: i32 = 4;

/// A frozen bundle (format v1) trained on telco churn.
fn fixture_bundle() -> PathBuf {
    repo_root().join("crates/capstan-bundle/tests/fixtures/telco_gbdt_v1.capstan")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn ok(dir: &Path, args: &[&str]) -> Run {
    let run = capstan(dir, args);
    assert_eq!(run.code, 0, "args {args:?}\nstderr: {}", run.stderr);
    run
}

fn ok_json(dir: &Path, args: &[&str]) -> Value {
    let run = ok(dir, args);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {}", run.stdout))
}

/// The registry as `models list --json` and `models audit --json` see it (empty without a store).
fn registry_state(dir: &Path) -> (Value, Value) {
    if !dir.join("store/capstan.db").is_file() {
        return (Value::Null, Value::Null);
    }
    (
        ok_json(dir, &["models", "list", "--json"]),
        ok_json(dir, &["models", "audit", "--json"]),
    )
}

/// Asserts the exit code and message, and that the registry did not change.
fn assert_fails(dir: &Path, args: &[&str], code: i32, needles: &[&str]) -> Run {
    let before = registry_state(dir);
    let run = capstan(dir, args);
    assert_eq!(run.code, code, "args {args:?}\nstderr: {}", run.stderr);
    for needle in needles {
        assert!(
            run.stderr.contains(needle),
            "{args:?}: stderr lacks '{needle}': {}",
            run.stderr
        );
    }
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(registry_state(dir), before, "{args:?} changed the registry");
    run
}

/// (action, alias, from, to) of one audit entry.
type Step = (String, Option<String>, Option<u64>, Option<u64>);

/// The audit entries' steps, oldest first.
fn audit_steps(audit: &Value) -> Vec<Step> {
    let mut steps: Vec<_> = audit
        .as_array()
        .expect("audit array")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().expect("action").to_string(),
                e["alias"].as_str().map(str::to_string),
                e["from_version"].as_u64(),
                e["to_version"].as_u64(),
            )
        })
        .collect();
    steps.reverse();
    steps
}

#[test]
fn register_alias_rollout_promote_rollback() {
    let dir = tempdir("models-loop");
    let train = ok_json(
        &dir,
        &[
            "train",
            "--data",
            s(&telco()),
            "--target",
            "churn",
            "--n-trees",
            "20",
            "--json",
        ],
    );
    let run_id = train["run_id"].as_str().expect("run id").to_string();

    let v1 = ok_json(
        &dir,
        &[
            "models",
            "register",
            "churn",
            "--run",
            &run_id[..8],
            "--alias",
            "champion",
            "--description",
            "first gbdt",
            "--json",
        ],
    );
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["run_id"], run_id.as_str());
    assert_eq!(v1["bundle_sha256"], train["model_sha256"]);
    assert_eq!(v1["aliases"], serde_json::json!(["champion"]));

    let list = ok_json(&dir, &["models", "list", "--json"]);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["name"], "churn");
    assert_eq!(list[0]["aliases"]["champion"], 1);
    assert_eq!(list[0]["rollout"]["mode"], "off");

    // A second version from a bundle file, as the challenger.
    let v2 = ok(
        &dir,
        &[
            "models",
            "register",
            "churn",
            "--bundle",
            s(&fixture_bundle()),
            "--alias",
            "challenger",
        ],
    );
    assert!(
        v2.stdout.contains("registered churn version 2") && v2.stdout.contains("challenger -> 2"),
        "{}",
        v2.stdout
    );
    let table = ok(&dir, &["models", "list"]).stdout;
    assert!(table.contains("champion=1 challenger=2"), "{table}");

    let show = ok_json(&dir, &["models", "show", "churn", "--json"]);
    let versions = show["versions"].as_array().expect("versions");
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["description"], "first gbdt");
    assert_eq!(versions[1]["run_id"], Value::Null);
    assert_eq!(show["aliases"]["challenger"], 2);

    ok(&dir, &["models", "alias", "churn", "staging", "1"]);
    ok(&dir, &["models", "alias", "churn", "staging", "--remove"]);

    let rollout = ok_json(
        &dir,
        &[
            "models",
            "rollout",
            "churn",
            "--canary",
            "10",
            "--max-error-rate",
            "0.05",
            "--json",
        ],
    );
    assert_eq!(rollout["rollout"]["mode"], "canary");
    assert_eq!(rollout["rollout"]["canary_percent"], 10.0);
    assert_eq!(rollout["rollout"]["max_error_rate"], 0.05);
    let human = ok(&dir, &["models", "show", "churn"]).stdout;
    assert!(human.contains("canary 10%"), "{human}");

    ok(
        &dir,
        &["models", "promote", "churn", "--reason", "canary healthy"],
    );
    let show = ok_json(&dir, &["models", "show", "churn", "--json"]);
    assert_eq!(show["aliases"], serde_json::json!({"champion": 2}));
    assert_eq!(show["rollout"]["mode"], "off");

    // No rollout is active, so rollback moves the champion back to its previous version.
    let back = ok(&dir, &["models", "rollback", "churn"]);
    assert!(
        back.stdout.contains("champion -> 1 (was 2)"),
        "{}",
        back.stdout
    );
    let show = ok_json(&dir, &["models", "show", "churn", "--json"]);
    assert_eq!(show["aliases"]["champion"], 1);

    let audit = ok_json(&dir, &["models", "audit", "churn", "--json"]);
    let c = |s: &str| Some(s.to_string());
    assert_eq!(
        audit_steps(&audit),
        vec![
            ("register".into(), None, None, Some(1)),
            ("alias".into(), c("champion"), None, Some(1)),
            ("register".into(), None, None, Some(2)),
            ("alias".into(), c("challenger"), None, Some(2)),
            ("alias".into(), c("staging"), None, Some(1)),
            ("alias".into(), c("staging"), Some(1), None),
            ("rollout".into(), None, None, None),
            ("promote".into(), c("champion"), Some(1), Some(2)),
            ("promote".into(), c("challenger"), Some(2), None),
            ("promote".into(), None, None, None),
            ("rollback".into(), c("champion"), Some(2), Some(1)),
        ]
    );
    let promote = &audit[3];
    assert_eq!(promote["reason"], "canary healthy");
    assert!(!promote["actor"].as_str().unwrap_or_default().is_empty());
    let human = ok(&dir, &["models", "audit", "--limit", "3"]).stdout;
    assert!(
        human.contains("rollback") && human.contains("champion 2 -> 1"),
        "{human}"
    );
    assert!(!human.contains("register"), "--limit 3: {human}");
}

#[test]
fn registry_failures_name_the_problem_and_write_nothing() {
    let dir = tempdir("models-errors");
    let bundle = fixture_bundle();
    let store = dir.join("store");

    // Read commands on a store that does not exist: an error, and no store is created.
    for (args, code) in [
        (&["models", "list"][..], BAD_INPUT),
        (&["models", "audit"][..], BAD_INPUT),
        (&["models", "show", "churn"][..], BAD_MODEL),
        (&["runs", "list"][..], BAD_INPUT),
        (&["log"][..], BAD_INPUT),
        (&["keys", "list"][..], BAD_INPUT),
        (&["serve", "--model", "churn"][..], BAD_MODEL),
    ] {
        assert_fails(&dir, args, code, &["no capstan store at", s(&store)]);
        assert!(!store.exists(), "{args:?} created {}", store.display());
    }

    // A corrupt bundle is refused before the store is touched.
    let mut bytes = std::fs::read(&bundle).expect("fixture");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x20;
    let corrupt = dir.join("corrupt.capstan");
    std::fs::write(&corrupt, &bytes).expect("write");
    assert_fails(
        &dir,
        &["models", "register", "churn", "--bundle", s(&corrupt)],
        BAD_MODEL,
        &["corrupt.capstan", "checksum"],
    );
    assert!(!store.exists(), "a refused bundle created the store");
    assert_fails(
        &dir,
        &["models", "register", "bad name", "--bundle", s(&bundle)],
        BAD_INPUT,
        &["invalid model name 'bad name'"],
    );
    assert!(!store.exists());

    ok(
        &dir,
        &[
            "models",
            "register",
            "churn",
            "--bundle",
            s(&bundle),
            "--alias",
            "champion",
        ],
    );
    // A bad alias name is refused before the version is registered.
    assert_fails(
        &dir,
        &[
            "models",
            "register",
            "churn",
            "--bundle",
            s(&bundle),
            "--alias",
            "no way",
        ],
        BAD_INPUT,
        &["invalid alias 'no way'"],
    );
    assert_fails(
        &dir,
        &["models", "register", "churn", "--run", "abcdef12"],
        BAD_MODEL,
        &["no run matches 'abcdef12'"],
    );
    assert_fails(
        &dir,
        &["models", "show", "churm"],
        BAD_MODEL,
        &["no registered model named 'churm'", "registered: churn"],
    );
    assert_fails(
        &dir,
        &["models", "alias", "churm", "champion", "1"],
        BAD_MODEL,
        &["no registered model named 'churm'"],
    );
    assert_fails(
        &dir,
        &["models", "alias", "churn", "challenger", "7"],
        BAD_MODEL,
        &["model 'churn' has no version 7 (latest is 1)"],
    );
    assert_fails(
        &dir,
        &["models", "alias", "churn", "bad/alias", "1"],
        BAD_INPUT,
        &["invalid alias 'bad/alias'"],
    );
    assert_fails(
        &dir,
        &["models", "alias", "churn", "42", "1"],
        BAD_INPUT,
        &["not all digits"],
    );
    assert_fails(
        &dir,
        &["models", "alias", "churn", "staging", "--remove"],
        BAD_MODEL,
        &["model 'churn' has no alias 'staging'"],
    );
    assert_fails(
        &dir,
        &["models", "rollout", "churn", "--canary", "10"],
        BAD_MODEL,
        &[
            "model 'churn' has no challenger",
            "capstan models alias churn challenger VERSION",
        ],
    );
    assert_fails(
        &dir,
        &["models", "promote", "churn"],
        BAD_MODEL,
        &["model 'churn' has no challenger to promote"],
    );
    assert_fails(
        &dir,
        &["models", "rollback", "churn"],
        BAD_MODEL,
        &["nothing to roll back to", "--to VERSION"],
    );
    assert_fails(
        &dir,
        &["models", "rollout", "churn", "--shadow", "--canary", "5"],
        2,
        &["cannot be used with"],
    );
    ok(&dir, &["models", "alias", "churn", "challenger", "1"]);
    assert_fails(
        &dir,
        &["models", "rollout", "churn", "--canary", "150"],
        BAD_INPUT,
        &["invalid rollout canary_percent 150: expected 0 to 100"],
    );
    assert_fails(
        &dir,
        &["serve", "--model", "fraud"],
        BAD_MODEL,
        &["no registered model named 'fraud'", "registered: churn"],
    );
    assert_fails(
        &dir,
        &["serve", "--model", "churn", "--default-model", "other"],
        BAD_INPUT,
        &["--default-model 'other' is not among the served models"],
    );
    assert_fails(&dir, &["serve", "--bind", "nowhere"], 2, &["--bind"]);
}

#[test]
fn api_keys_and_an_empty_prediction_log() {
    let dir = tempdir("keys-log");
    let created = ok(&dir, &["keys", "create", "ci", "--role", "predict"]);
    let secret = created
        .stdout
        .split_whitespace()
        .find(|w| w.starts_with("cap_"))
        .expect("secret printed")
        .to_string();
    assert_eq!(created.stdout.matches(&secret).count(), 1);
    assert!(created.stderr.contains("cannot be shown again"));

    let ops = ok_json(
        &dir,
        &["keys", "create", "ops", "--role", "admin", "--json"],
    );
    assert_eq!(ops["name"], "ops");
    assert_eq!(ops["role"], "admin");
    let ops_secret = ops["secret"].as_str().expect("secret").to_string();

    let listed = ok(&dir, &["keys", "list", "--json"]).stdout;
    assert!(!listed.contains(&secret) && !listed.contains(&ops_secret));
    let keys: Value = serde_json::from_str(&listed).expect("json");
    assert_eq!(keys.as_array().map(Vec::len), Some(2));
    assert!(keys[0].get("secret").is_none());

    ok(&dir, &["keys", "revoke", "ci"]);
    let keys = ok_json(&dir, &["keys", "list", "--json"]);
    let ci = keys
        .as_array()
        .and_then(|k| k.iter().find(|k| k["name"] == "ci"))
        .expect("ci listed");
    assert!(ci["revoked_at"].is_string());
    let table = ok(&dir, &["keys", "list"]).stdout;
    assert!(
        table.contains("revoked") && table.contains("active"),
        "{table}"
    );

    assert_fails(
        &dir,
        &["keys", "revoke", "ci"],
        BAD_INPUT,
        &["no active api key named 'ci'"],
    );
    assert_fails(
        &dir,
        &["keys", "create", "ops", "--role", "read"],
        BAD_INPUT,
        &["an api key named 'ops' already exists"],
    );
    assert_fails(
        &dir,
        &["keys", "create", "x", "--role", "root"],
        2,
        &["invalid value 'root'"],
    );

    // The store exists now (keys live in it) but nothing was served yet.
    let log = ok(&dir, &["log"]);
    assert!(log.stdout.is_empty() && log.stderr.contains("no predictions logged"));
    assert_eq!(
        ok_json(&dir, &["log", "--json", "--since", "2024-01-01"]),
        serde_json::json!([])
    );
    let export = dir.join("log.csv");
    ok(&dir, &["log", "--export", s(&export)]);
    let text = std::fs::read_to_string(&export).expect("export written");
    assert_eq!(
        text.lines().next(),
        Some("id,at,model,version,role,latency_us,inputs,outputs")
    );
    assert_fails(
        &dir,
        &["log", "--since", "last tuesday"],
        BAD_INPUT,
        &["--since 'last tuesday'", "RFC 3339"],
    );
    assert_fails(
        &dir,
        &["log", "--model", "churn"],
        BAD_MODEL,
        &["no registered model named 'churn'"],
    );
}
