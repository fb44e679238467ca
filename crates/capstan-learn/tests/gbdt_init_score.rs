//! Where boosting starts: `boost_from_average = false` (raw score 0) and `base_score` (a
//! prediction in the target's scale) give LightGBM's trees, checked against LightGBM trained
//! with `boost_from_average=False` and with a constant `init_score`.

mod support;

use capstan_learn::gbdt::{self, GbdtModel, GbdtParams, Objective};
use capstan_learn::{LearnError, Task};
use serde_json::json;
use support::*;

fn fit(x: &capstan_frame::Matrix, y: &[f64], task: Task, p: &GbdtParams) -> GbdtModel {
    gbdt::fit((x, y), None, task, p, &mut |_| {}).expect("fit")
}

/// Same trees as LightGBM still differ by LightGBM's 32-bit gradients (measured:
/// at most 2.1e-8 on adult's raw scores, the default parameters' parity level); a tree
/// that splits differently is orders of magnitude further.
const TOLERANCE: f64 = 1e-7;

/// Largest `|a - b| / max(|b|, 1)`.
fn max_diff(ours: &[f64], theirs: &[f64]) -> f64 {
    assert_eq!(ours.len(), theirs.len());
    ours.iter()
        .zip(theirs)
        .map(|(a, b)| (a - b).abs() / b.abs().max(1.0))
        .fold(0.0, f64::max)
}

/// Our test predictions (raw scores when `raw`) and LightGBM's with `extra`, on an 80/20
/// split of `name`.
fn against_lightgbm(
    name: &str,
    tag: &str,
    params: &GbdtParams,
    raw: bool,
    extra: serde_json::Value,
) -> Option<(GbdtModel, Vec<f64>, Vec<f64>)> {
    let py = python()?;
    let mut d = load(name);
    if name == "bike_sharing_hourly" {
        d.x = without_first_column(&d.x);
    }
    let (train_rows, test_rows) = split(d.x.n_rows, 0.2, 42);
    let (xtr, ytr) = subset(&d, &train_rows);
    let (xte, yte) = subset(&d, &test_rows);
    let model = fit(&xtr, &ytr, d.task, params);
    let ours = if raw {
        model.predict_raw(&xte).values
    } else {
        model.predict(&xte).values
    };
    let lgb = lightgbm_params(params, &xtr, extra);
    let theirs = lightgbm_predict(&py, &format!("init-{tag}"), (&xtr, &ytr), (&xte, &yte), lgb);
    Some((model, ours, theirs))
}

#[test]
fn boost_from_average_false_matches_lightgbm() {
    let params = GbdtParams {
        boost_from_average: false,
        ..GbdtParams::default()
    };
    for (name, objective) in [("adult", "binary"), ("california_housing", "regression")] {
        let extra = json!({"objective": objective, "boost_from_average": false});
        let Some((model, ours, theirs)) = against_lightgbm(name, name, &params, false, extra)
        else {
            return;
        };
        assert_eq!(model.init_scores, [0.0]);
        let diff = max_diff(&ours, &theirs);
        eprintln!("{name} boost_from_average=false: largest difference {diff:.3e}");
        assert!(diff <= TOLERANCE, "{name}: largest difference {diff}");
    }
}

#[test]
fn base_score_matches_lightgbm_with_a_constant_init_score() {
    let p = 0.3f64;
    let logit = (p / (1.0 - p)).ln();
    let cases = [
        ("adult", "binary", Objective::Auto, p, logit),
        (
            "california_housing",
            "regression",
            Objective::Auto,
            150_000.0,
            150_000.0,
        ),
        (
            "bike_sharing_hourly",
            "poisson",
            Objective::Poisson,
            150.0,
            150f64.ln(),
        ),
    ];
    for (name, lgb_objective, objective, base_score, init_score) in cases {
        let params = GbdtParams {
            objective,
            base_score: Some(base_score),
            ..GbdtParams::default()
        };
        let extra = json!({"objective": lgb_objective, "init_score": init_score});
        let tag = format!("{name}-{lgb_objective}");
        let Some((model, ours, theirs)) = against_lightgbm(name, &tag, &params, true, extra) else {
            return;
        };
        assert_eq!(model.init_scores, [init_score]);
        let diff = max_diff(&ours, &theirs);
        eprintln!(
            "{name} {lgb_objective} base_score {base_score}: largest raw difference {diff:.3e}"
        );
        assert!(
            diff <= TOLERANCE,
            "{name} {lgb_objective}: largest raw difference {diff}"
        );
    }
}

#[test]
fn base_score_is_the_prediction_before_any_tree() {
    let d = load("adult");
    let none = GbdtParams {
        n_trees: 0,
        base_score: Some(0.3),
        ..GbdtParams::default()
    };
    let probs = fit(&d.x, &d.y, d.task, &none).predict(&d.x).values;
    assert!(
        probs.iter().all(|&v| (v - 0.3).abs() < 1e-15),
        "{}",
        probs[0]
    );
    let d = load("diabetes");
    let p = GbdtParams {
        n_trees: 0,
        objective: Objective::Poisson,
        base_score: Some(140.0),
        ..GbdtParams::default()
    };
    let preds = fit(&d.x, &d.y, d.task, &p).predict(&d.x).values;
    assert!(
        preds.iter().all(|&v| (v - 140.0).abs() < 1e-9),
        "{}",
        preds[0]
    );
    // multiclass without boost_from_average: every class starts at raw score 0
    let d = load("penguins");
    let zero = GbdtParams {
        n_trees: 1,
        boost_from_average: false,
        ..GbdtParams::default()
    };
    assert_eq!(fit(&d.x, &d.y, d.task, &zero).init_scores, [0.0; 3]);
}

fn base_score_error(name: &str, p: GbdtParams) -> String {
    let d = load(name);
    match gbdt::fit((&d.x, &d.y), None, d.task, &p, &mut |_| {}) {
        Err(LearnError::InvalidParam { name, message }) => {
            assert_eq!(name, "base_score");
            assert_eq!(message, message.to_lowercase());
            message
        }
        other => panic!("expected a base_score error, got {other:?}"),
    }
}

#[test]
fn bad_base_scores_are_refused() {
    let with = |v: f64| GbdtParams {
        base_score: Some(v),
        ..GbdtParams::default()
    };
    for v in [0.0, 1.0, 1.5, f64::NAN] {
        let m = base_score_error("adult", with(v));
        assert!(m.contains("probability in (0, 1)"), "{m}");
    }
    let m = base_score_error("penguins", with(0.5));
    assert!(m.contains("multiclass"), "{m}");
    let m = base_score_error("diabetes", with(f64::INFINITY));
    assert!(m.contains("must be finite, found inf"), "{m}");
    let gamma = GbdtParams {
        objective: Objective::Gamma,
        ..with(-1.0)
    };
    let m = base_score_error("diabetes", gamma);
    assert!(m.contains("> 0") && m.contains("gamma"), "{m}");
    let both = GbdtParams {
        boost_from_average: false,
        ..with(100.0)
    };
    let m = base_score_error("diabetes", both);
    assert!(m.contains("boost_from_average"), "{m}");
}

#[test]
fn start_keys_are_optional_and_not_written_at_their_defaults() {
    let text = serde_json::to_string(&GbdtParams::default()).expect("json");
    assert!(
        !text.contains("base_score") && !text.contains("boost_from_average"),
        "{text}"
    );
    let old: GbdtParams = serde_json::from_value(json!({"n_trees": 5})).expect("old config");
    assert!(old.boost_from_average && old.base_score.is_none());
    let p: GbdtParams =
        serde_json::from_value(json!({"boost_from_average": false})).expect("config");
    assert!(!p.boost_from_average);
    let p: GbdtParams = serde_json::from_value(json!({"base_score": 0.25})).expect("config");
    assert_eq!(p.base_score, Some(0.25));
    let back: GbdtParams =
        serde_json::from_str(&serde_json::to_string(&p).expect("json")).expect("round trip");
    assert_eq!(back, p);
}
