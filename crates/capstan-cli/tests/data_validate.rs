//! `capstan data suggest` + `capstan data validate` on the adult set: rules suggested from
//! the clean file pass on it, and a copy with known injected faults reports exactly those
//! faults with exactly their row counts.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use common::{capstan, shared_data, tempdir};

const INVALID_DATA: i32 = 5;
const BAD_INPUT: i32 = 3;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Rows equal to an earlier row (pandas `duplicated().sum()`), comparing CSV lines.
fn duplicate_lines(rows: &[String]) -> usize {
    let mut seen = BTreeSet::new();
    rows.iter().filter(|r| !seen.insert(r.as_str())).count()
}

fn parse_report(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("report is not JSON ({e}): {stdout}"))
}

/// (rule, column, failing rows) of each failure, sorted.
fn faults(report: &serde_json::Value) -> Vec<(String, String, Option<u64>)> {
    let mut out: Vec<_> = report["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().expect("rule").to_string(),
                f["column"].as_str().unwrap_or("-").to_string(),
                f["failing_rows"].as_u64(),
            )
        })
        .collect();
    out.sort();
    out
}

fn example_rows(report: &serde_json::Value, rule: &str) -> Vec<u64> {
    let failure = report["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .find(|f| f["rule"] == rule)
        .expect("the failure");
    failure["examples"]
        .as_array()
        .expect("examples")
        .iter()
        .map(|e| e["row"].as_u64().expect("row"))
        .collect()
}

#[test]
fn suggested_rules_pass_clean_data_and_catch_exactly_the_injected_faults() {
    let dir = tempdir("data-validate");
    let clean = shared_data("adult");
    let rules = dir.join("adult.rules.toml");
    let run = capstan(
        &dir,
        &["data", "suggest", "--data", s(&clean), "--out", s(&rules)],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rules_text = std::fs::read_to_string(&rules).expect("rules written");

    let pass = capstan(
        &dir,
        &[
            "data",
            "validate",
            "--data",
            s(&clean),
            "--rules",
            s(&rules),
            "--json",
        ],
    );
    assert_eq!(pass.code, 0, "{}\n{}", pass.stdout, pass.stderr);
    let report = parse_report(&pass.stdout);
    assert_eq!(report["passed"], true);
    assert_eq!(report["n_rows"], 48842);
    assert!(faults(&report).is_empty(), "{report}");

    // The corrupted copy, built from the CSV text.
    let text = std::fs::read_to_string(&clean).expect("read adult");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let mut rows: Vec<String> = lines.map(str::to_string).collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (age, education, race) = (col("age"), col("education"), col("race"));
    let clean_duplicates = duplicate_lines(&rows);
    assert!(
        rules_text.contains(&format!("max_duplicate_rows = {clean_duplicates}\n")),
        "suggest should allow the {clean_duplicates} duplicates seen"
    );
    assert!(rules_text.contains("[columns.education]\ntype = \"string\"\nnot_null = true\n"));

    // Rows to corrupt: no empty field and no equal row anywhere, so that changing one
    // neither touches another rule nor creates or removes a duplicate. Spread out.
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for r in &rows {
        *counts.entry(r.as_str()).or_default() += 1;
    }
    let candidates: Vec<usize> = (0..rows.len())
        .filter(|&i| counts[rows[i].as_str()] == 1 && !rows[i].split(',').any(str::is_empty))
        .step_by(911)
        .collect();
    let (k, m, n, d) = (7, 5, 4, 3);
    assert!(candidates.len() >= k + m + n + d);
    let null_rows = &candidates[..k];
    let age_rows = &candidates[k..k + m];
    let race_rows = &candidates[k + m..k + m + n];
    let copy_rows = &candidates[k + m + n..k + m + n + d];
    let set = |i: usize, c: usize, value: &str, rows: &mut Vec<String>| {
        let mut cells: Vec<&str> = rows[i].split(',').collect();
        cells[c] = value;
        rows[i] = cells.join(",");
    };
    for &i in null_rows {
        set(i, education, "", &mut rows);
    }
    for &i in age_rows {
        set(i, age, "150", &mut rows);
    }
    for &i in race_rows {
        set(i, race, "Martian", &mut rows);
    }
    for &i in copy_rows {
        rows.push(rows[i].clone());
    }
    assert_eq!(duplicate_lines(&rows), clean_duplicates + d);
    let corrupted = dir.join("adult_corrupted.csv");
    std::fs::write(
        &corrupted,
        format!("{}\n{}\n", header.join(","), rows.join("\n")),
    )
    .expect("write corrupted copy");

    let fail = capstan(
        &dir,
        &[
            "data",
            "validate",
            "--data",
            s(&corrupted),
            "--rules",
            s(&rules),
            "--json",
        ],
    );
    assert_eq!(fail.code, INVALID_DATA, "{}\n{}", fail.stdout, fail.stderr);
    assert!(fail.stderr.contains("failed validation"), "{}", fail.stderr);
    let report = parse_report(&fail.stdout);
    assert_eq!(report["passed"], false);
    assert_eq!(report["errors"], 4);
    assert_eq!(report["warnings"], 0);
    assert_eq!(
        faults(&report),
        [
            ("allowed".into(), "race".into(), Some(n as u64)),
            ("max".into(), "age".into(), Some(m as u64)),
            (
                "max_duplicate_rows".into(),
                "-".into(),
                Some((clean_duplicates + d) as u64)
            ),
            ("not_null".into(), "education".into(), Some(k as u64)),
        ]
    );
    let as_u64 = |rows: &[usize]| rows.iter().map(|&i| i as u64).collect::<Vec<_>>();
    assert_eq!(example_rows(&report, "not_null"), as_u64(&null_rows[..5]));
    assert_eq!(example_rows(&report, "max"), as_u64(age_rows));
    assert_eq!(example_rows(&report, "allowed"), as_u64(race_rows));
    let max = report["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .find(|f| f["rule"] == "max")
        .expect("max failure");
    assert_eq!(max["examples"][0]["value"], "150");
    assert_eq!(max["expected"], "<= 90");

    // The readable table names the same faults.
    let table = capstan(
        &dir,
        &[
            "data",
            "validate",
            "--data",
            s(&corrupted),
            "--rules",
            s(&rules),
        ],
    );
    assert_eq!(table.code, INVALID_DATA);
    for needle in [
        "not_null",
        "education",
        "Martian",
        "max_duplicate_rows",
        "FAILED",
    ] {
        assert!(table.stdout.contains(needle), "{needle}: {}", table.stdout);
    }

    // Training refuses the corrupted copy (rules from the config file) and records nothing.
    let config = dir.join("train.toml");
    std::fs::write(
        &config,
        format!(
            "data = {:?}\ntarget = \"income_gt_50k\"\nrules = {:?}\n[gbdt]\nn_trees = 3\n",
            s(&corrupted),
            s(&rules)
        ),
    )
    .expect("write config");
    let refused = capstan(&dir, &["train", "--config", s(&config)]);
    assert_eq!(refused.code, INVALID_DATA, "{}", refused.stderr);
    for needle in ["failed the rules", "Martian", "max_duplicate_rows"] {
        assert!(
            refused.stderr.contains(needle),
            "{needle}: {}",
            refused.stderr
        );
    }
    assert!(
        !dir.join("store").exists(),
        "a refused training left a store behind"
    );

    // The clean file trains, and the bundle carries the row rules for serving.
    let bundle_path = dir.join("adult.capstan");
    let trained = capstan(
        &dir,
        &[
            "train",
            "--data",
            s(&clean),
            "--target",
            "income_gt_50k",
            "--rules",
            s(&rules),
            "--n-trees",
            "3",
            "--out",
            s(&bundle_path),
        ],
    );
    assert_eq!(trained.code, 0, "{}", trained.stderr);
    let bundle = capstan_bundle::Bundle::read(&bundle_path).expect("bundle");
    let carried: capstan_quality::rules::RuleSet =
        serde_json::from_value(bundle.manifest.rules.expect("rules in the bundle"))
            .expect("rules JSON");
    let age = &carried.columns["age"];
    assert_eq!(age.max.as_ref().map(|r| r.value), Some(90.0));
    assert!(carried.table.is_empty(), "table rules are not row rules");
    assert!(
        carried
            .columns
            .values()
            .all(|c| c.max_missing_fraction.is_none())
    );
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    s(&path).to_string()
}

/// Runs validate on adult with a rules file; returns the run.
fn validate_adult(dir: &Path, rules: &str) -> common::Run {
    let data = shared_data("adult");
    capstan(
        dir,
        &[
            "data",
            "validate",
            "--data",
            s(&data),
            "--rules",
            rules,
            "--json",
        ],
    )
}

#[test]
fn bad_rules_files_are_bad_input_naming_the_problem() {
    let dir = tempdir("data-validate-bad");
    let cases = [
        (
            "malformed.toml",
            "[columns.age\nmin = 1\n",
            vec!["malformed.toml", "line 1"],
        ),
        (
            "unknown.toml",
            "[table]\nmin_rows = 1\n\n[columns.age]\nminimum = 17\n",
            vec!["unknown.toml", "line 5", "[columns.age]", "minimum"],
        ),
        (
            "regex.toml",
            "[columns.education]\nregex = \"([a-z\"\n",
            vec![
                "regex.toml",
                "[columns.education]",
                "does not compile: unclosed character class",
            ],
        ),
        (
            "type.toml",
            "[columns.age]\nmax = \"ninety\"\n",
            vec!["type.toml", "[columns.age]", "invalid type"],
        ),
    ];
    for (name, text, needles) in cases {
        let rules = write(&dir, name, text);
        let run = validate_adult(&dir, &rules);
        assert_eq!(run.code, BAD_INPUT, "{name}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        for needle in needles {
            assert!(
                run.stderr.contains(needle),
                "{name}: '{needle}' not in {}",
                run.stderr
            );
        }
    }
    let missing = validate_adult(&dir, &dir.join("nope.toml").display().to_string());
    assert_eq!(missing.code, BAD_INPUT, "{}", missing.stderr);
    assert!(missing.stderr.contains("nope.toml"), "{}", missing.stderr);
}

#[test]
fn rules_for_missing_columns_are_failures_not_crashes() {
    let dir = tempdir("data-validate-missing");
    let rules = write(
        &dir,
        "missing.toml",
        "[table]\ncolumns = [\"age\", \"salary\"]\n\
         [columns.salary]\nnot_null = true\n\
         [columns.email]\nregex = { value = \"@\", severity = \"warn\" }\n\
         [columns.age]\nmin = 17\n",
    );
    let run = validate_adult(&dir, &rules);
    assert_eq!(run.code, INVALID_DATA, "{}", run.stderr);
    let report = parse_report(&run.stdout);
    assert_eq!(
        faults(&report),
        [
            ("columns".into(), "-".into(), None),
            ("missing_column".into(), "email".into(), None),
        ]
    );
    let failures = report["failures"].as_array().expect("failures");
    assert_eq!(failures[0]["found"], "missing: salary");
    assert_eq!(failures[1]["severity"], "warn");
    assert_eq!(
        (report["errors"].as_u64(), report["warnings"].as_u64()),
        (Some(1), Some(1))
    );

    // warnings alone pass
    let warn_only = write(
        &dir,
        "warn.toml",
        "[columns.age]\nmax = { value = 60, severity = \"warn\" }\n",
    );
    let run = validate_adult(&dir, &warn_only);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = parse_report(&run.stdout);
    assert_eq!(report["warnings"], 1);
    assert_eq!(report["passed"], true);
}

#[test]
fn freshness_is_measured_from_now() {
    let dir = tempdir("data-validate-fresh");
    let rules = write(
        &dir,
        "fresh.toml",
        "[columns.dteday]\nfresh_within_days = 7\n",
    );
    let data = shared_data("bike_sharing_hourly");
    let at = |now: &str| {
        capstan(
            &dir,
            &[
                "data",
                "validate",
                "--data",
                s(&data),
                "--rules",
                &rules,
                "--json",
                "--now",
                now,
            ],
        )
    };
    // the newest day is 2012-12-31
    assert_eq!(at("2013-01-07T00:00:00Z").code, 0);
    let stale = at("2013-01-08T00:00:01Z");
    assert_eq!(stale.code, INVALID_DATA, "{}", stale.stderr);
    let report = parse_report(&stale.stdout);
    assert_eq!(
        faults(&report),
        [("fresh_within_days".into(), "dteday".into(), None)]
    );
    let bad = at("yesterday");
    assert_eq!(bad.code, BAD_INPUT);
    assert!(bad.stderr.contains("RFC 3339"), "{}", bad.stderr);
}
