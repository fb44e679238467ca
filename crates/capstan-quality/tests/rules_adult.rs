//! Rules on the real adult set: distribution rules against a profile of the data, and
//! suggested rules that the profiled data passes.

use std::path::{Path, PathBuf};

use capstan_frame::{Frame, ReadOptions};
use capstan_quality::profile::{ProfileOptions, profile};
use capstan_quality::rules::{CompiledRules, RuleSet, suggest};
use chrono::NaiveDateTime;

fn adult() -> Frame {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/adult/adult.csv");
    capstan_frame::read(&path, &ReadOptions::default()).expect("read adult")
}

fn now() -> NaiveDateTime {
    chrono::DateTime::from_timestamp(1_700_000_000, 0)
        .expect("time")
        .naive_utc()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("capstan-rules-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Compiles `rules` beside a reference profile of `reference` written as profile.json.
fn rules_with_reference(reference: &Frame, rules: &str, name: &str) -> CompiledRules {
    let dir = temp(name);
    let p = profile(reference, "reference", &ProfileOptions::default()).expect("profile");
    let json = serde_json::to_string(&p).expect("profile json");
    std::fs::write(dir.join("profile.json"), json).expect("write profile");
    std::fs::write(dir.join("rules.toml"), rules).expect("write rules");
    CompiledRules::load(&dir.join("rules.toml")).expect("compile rules")
}

const DISTRIBUTION_RULES: &str = "[columns.age]\n\
    distribution = { reference = \"profile.json\", max_psi = 0.1 }\n\
    [columns.relationship]\n\
    distribution = { reference = \"profile.json\", max_psi = 0.1, severity = \"warn\" }\n";

#[test]
fn distribution_rules_pass_the_same_population_and_flag_a_shifted_one() {
    let frame = adult();
    let n = frame.n_rows();
    // the original train split as the reference
    let train = frame.take(&(0..32561).collect::<Vec<_>>());
    let test = frame.take(&(32561..n).collect::<Vec<_>>());
    let rules = rules_with_reference(&train, DISTRIBUTION_RULES, "dist");

    let same = rules.check(&train, "train", now());
    assert!(same.failures.is_empty(), "{:?}", same.failures);

    // adult.test is drawn from the same census: stable
    let report = rules.check(&test, "test", now());
    assert!(report.passed, "{:?}", report.failures);
    assert!(report.failures.is_empty(), "{:?}", report.failures);

    // only people aged 45 and over: age moves (error), relationship moves (warning)
    let age = frame.column("age").expect("age");
    let older: Vec<usize> = (0..n)
        .filter(|&i| age.f64_at(i).is_some_and(|a| a >= 45.0))
        .collect();
    let shifted = rules.check(&frame.take(&older), "older", now());
    assert!(!shifted.passed);
    assert_eq!((shifted.errors, shifted.warnings), (1, 1));
    let age_failure = &shifted.failures[0];
    assert_eq!(age_failure.rule, "distribution");
    assert_eq!(age_failure.column.as_deref(), Some("age"));
    let shift = age_failure.distribution.as_ref().expect("shift details");
    assert!(shift.psi > 1.0, "psi {}", shift.psi);
    assert_eq!(shift.top_bins.len(), 5);
    // every bin below 45 empties, so the bins that moved most are young ones or old ones
    // that grew; contributions are sorted, largest first, and sum to at most the psi
    assert!(
        shift
            .top_bins
            .windows(2)
            .all(|w| w[0].contribution >= w[1].contribution)
    );
    let listed: f64 = shift.top_bins.iter().map(|b| b.contribution).sum();
    assert!(listed <= shift.psi + 1e-9);
    let relationship = &shifted.failures[1];
    assert_eq!(relationship.column.as_deref(), Some("relationship"));
    assert_eq!(
        relationship.severity,
        capstan_quality::rules::Severity::Warn
    );
}

#[test]
fn a_reference_without_the_column_is_bad_input() {
    let frame = adult();
    let dir = temp("noref");
    let p = profile(
        &frame.drop_columns(&["age"]),
        "ref",
        &ProfileOptions::default(),
    )
    .expect("profile");
    std::fs::write(dir.join("p.json"), serde_json::to_string(&p).expect("json")).expect("write");
    std::fs::write(
        dir.join("r.toml"),
        "[columns.age]\ndistribution = { reference = \"p.json\", max_psi = 0.1 }\n",
    )
    .expect("write");
    let err = CompiledRules::load(&dir.join("r.toml")).expect_err("no age in the profile");
    assert!(err.to_string().contains("no column 'age'"), "{err}");
}

#[test]
fn suggested_rules_pass_their_own_data() {
    let frame = adult();
    let text = suggest(&frame, "adult.csv").expect("suggest");
    let spec = RuleSet::parse(&text, "suggested").expect("suggested rules parse");
    assert_eq!(spec.columns.len(), frame.n_cols());
    let report = CompiledRules::compile(spec, Path::new("."))
        .expect("compile")
        .check(&frame, "adult.csv", now());
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    // every column got a type, plus one rule per table key and per column constraint
    assert!(report.rules_checked > 2 * frame.n_cols());
}
