//! Monotone and interaction constraints: the promised shapes hold on real data, the trees
//! match LightGBM's, and bad values are refused.

mod support;

use capstan_frame::Matrix;
use capstan_learn::gbdt::{self, GbdtModel, GbdtParams, Objective, Tree};
use capstan_learn::{LearnError, Task};
use serde_json::json;
use support::*;

fn column(d: &Dataset, name: &str) -> usize {
    d.x.feature_names
        .iter()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// One direction per feature: `dirs` on the named columns, 0 elsewhere.
fn directions(d: &Dataset, dirs: &[(&str, i8)]) -> Vec<i8> {
    let mut out = vec![0; d.x.n_cols];
    for &(name, dir) in dirs {
        out[column(d, name)] = dir;
    }
    out
}

fn fit(d: &Dataset, params: &GbdtParams) -> GbdtModel {
    gbdt::fit((&d.x, &d.y), None, d.task, params, &mut |_| {}).expect("fit")
}

/// Finite range of column `j`.
fn range(x: &Matrix, j: usize) -> (f64, f64) {
    (0..x.n_rows)
        .map(|i| x.get(i, j))
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
}

/// For `n_rows` real rows, feature `j` swept over a 64-point grid of its range (and every
/// split threshold the model has on it, on both sides): how many steps move against `dir`.
fn violations(model: &GbdtModel, x: &Matrix, j: usize, dir: i8, n_rows: usize) -> usize {
    let (lo, hi) = range(x, j);
    let mut grid: Vec<f64> = (0..64).map(|k| lo + (hi - lo) * k as f64 / 63.0).collect();
    for t in &model.trees {
        for (node, &f) in t.split_feature.iter().enumerate() {
            if f as usize == j {
                grid.extend([t.threshold[node], next_up(t.threshold[node])]);
            }
        }
    }
    grid.sort_by(f64::total_cmp);
    grid.dedup();
    let step = (x.n_rows / n_rows).max(1);
    let rows: Vec<usize> = (0..x.n_rows).step_by(step).take(n_rows).collect();
    let mut data = Vec::with_capacity(rows.len() * grid.len() * x.n_cols);
    for &i in &rows {
        for &v in &grid {
            let mut row = x.row(i).to_vec();
            row[j] = v;
            data.extend(row);
        }
    }
    let mut sweep = Matrix::new(rows.len() * grid.len(), x.feature_names.clone(), data);
    sweep.feature_kinds = x.feature_kinds.clone();
    let p = model.predict(&sweep).values;
    p.chunks(grid.len())
        .map(|c| {
            c.windows(2)
                .filter(|w| (w[1] - w[0]) * f64::from(dir) < 0.0)
                .count()
        })
        .sum()
}

fn next_up(v: f64) -> f64 {
    if v >= 0.0 {
        f64::from_bits(v.to_bits() + 1)
    } else {
        f64::from_bits(v.to_bits() - 1)
    }
}

/// Constrained models are monotone along every sweep; the same model without constraints is
/// not (so the check can fail).
fn check_monotone(name: &str, dirs: &[(&str, i8)]) {
    let d = load(name);
    let constrained = GbdtParams {
        n_trees: 60,
        monotone_constraints: directions(&d, dirs),
        ..GbdtParams::default()
    };
    let free = GbdtParams {
        n_trees: 60,
        ..GbdtParams::default()
    };
    let (mc, plain) = (fit(&d, &constrained), fit(&d, &free));
    let mut free_violations = 0;
    for &(col, dir) in dirs {
        let j = column(&d, col);
        let bad = violations(&mc, &d.x, j, dir, 300);
        let free_bad = violations(&plain, &d.x, j, dir, 300);
        eprintln!(
            "{name} {col} ({dir:+}): constrained {bad}, unconstrained {free_bad} steps against"
        );
        assert_eq!(bad, 0, "{name}: {col} is not monotone ({dir:+})");
        free_violations += free_bad;
    }
    assert!(
        free_violations > 0,
        "{name}: unconstrained model is monotone too"
    );
}

#[test]
fn california_housing_monotone_features_are_monotone() {
    check_monotone(
        "california_housing",
        &[
            ("median_income", 1),
            ("housing_median_age", 1),
            ("population", -1),
        ],
    );
}

#[test]
fn adult_monotone_features_are_monotone() {
    check_monotone(
        "adult",
        &[
            ("education_num", 1),
            ("hours_per_week", 1),
            ("capital_gain", 1),
            ("age", -1),
        ],
    );
}

/// Features on the path to each leaf.
fn leaf_paths(t: &Tree) -> Vec<Vec<usize>> {
    fn walk(t: &Tree, node: i32, path: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if node < 0 {
            out.push(path.clone());
            return;
        }
        let i = node as usize;
        path.push(t.split_feature[i] as usize);
        walk(t, t.left_child[i], path, out);
        walk(t, t.right_child[i], path, out);
        path.pop();
    }
    let mut out = Vec::new();
    if t.n_nodes() > 0 {
        walk(t, 0, &mut Vec::new(), &mut out);
    }
    out
}

/// Every root-to-leaf path of every tree lies in one group; returns how many paths used
/// more than one feature.
fn check_paths(model: &GbdtModel, groups: &[Vec<usize>]) -> usize {
    let mut mixed = 0;
    for (k, t) in model.trees.iter().enumerate() {
        for path in leaf_paths(t) {
            let ok = groups.iter().any(|g| path.iter().all(|f| g.contains(f)));
            assert!(ok, "tree {k}: path {path:?} is in no group of {groups:?}");
            let mut distinct = path.clone();
            distinct.sort_unstable();
            distinct.dedup();
            mixed += usize::from(distinct.len() > 1);
        }
    }
    mixed
}

#[test]
fn interaction_constraints_keep_each_branch_in_one_group() {
    for (name, groups) in [
        // overlapping groups, a categorical feature (8), features 3 and 4 in no group
        (
            "california_housing",
            vec![vec![0, 1, 8], vec![1, 2, 7], vec![5, 6, 7]],
        ),
        // categorical features (1, 3, 5, 6, 7, 8, 9, 13) in groups with numeric ones
        (
            "adult",
            vec![
                vec![0, 1, 2, 3],
                vec![4, 5, 6, 7],
                vec![8, 9, 10, 11, 12, 13],
            ],
        ),
    ] {
        let d = load(name);
        let params = GbdtParams {
            n_trees: 30,
            interaction_constraints: groups.clone(),
            ..GbdtParams::default()
        };
        let model = fit(&d, &params);
        let mixed = check_paths(&model, &groups);
        assert!(mixed > 0, "{name}: no path used two features");
        let used: Vec<usize> = (0..d.x.n_cols)
            .filter(|f| {
                model
                    .trees
                    .iter()
                    .any(|t| t.split_feature.contains(&(*f as u32)))
            })
            .collect();
        assert!(used.iter().all(|f| groups.iter().any(|g| g.contains(f))));
        eprintln!("{name}: features used {used:?}, {mixed} mixed paths");
    }
}

#[test]
fn interaction_constraints_hold_with_per_node_sampling() {
    // nodes draw among the features their branch may use
    let d = load("adult");
    let groups = vec![
        vec![0, 1, 2, 3],
        vec![4, 5, 6, 7],
        vec![8, 9, 10, 11, 12, 13],
    ];
    let params = GbdtParams {
        n_trees: 30,
        feature_fraction_bynode: 0.3,
        interaction_constraints: groups.clone(),
        ..GbdtParams::default()
    };
    let mixed = check_paths(&fit(&d, &params), &groups);
    assert!(mixed > 0, "no path used two features");
}

/// Test predictions of both sides, the test targets and our model.
struct Oracle {
    ours: Vec<f64>,
    theirs: Vec<f64>,
    y: Vec<f64>,
    model: GbdtModel,
}

/// Our and LightGBM's test predictions (80/20 split, 100 rounds) with `params` and the
/// LightGBM parameters `extra`.
fn against_lightgbm(name: &str, params: &GbdtParams, extra: serde_json::Value) -> Option<Oracle> {
    let py = python()?;
    let d = load(name);
    let (train_rows, test_rows) = split(d.x.n_rows, 0.2, 42);
    let (xtr, ytr) = subset(&d, &train_rows);
    let (xte, yte) = subset(&d, &test_rows);
    let model = gbdt::fit((&xtr, &ytr), None, d.task, params, &mut |_| {}).expect("fit");
    let ours = model.predict(&xte).values;
    let mut lgb = json!({
        "num_iterations": 100, "learning_rate": 0.1, "num_leaves": 31,
        "num_threads": 1, "deterministic": true, "seed": 0, "verbose": -1,
        "categorical_feature": categorical_columns(&xtr),
        "objective": if d.task == Task::Regression { "regression" } else { "binary" },
    });
    if let (Some(l), Some(o)) = (lgb.as_object_mut(), extra.as_object()) {
        l.extend(o.clone());
    }
    let tag = format!(
        "constraints-{name}-{}",
        std::thread::current().name().unwrap_or("t")
    );
    let theirs = lightgbm_predict(
        &py,
        &tag.replace("::", "-"),
        (&xtr, &ytr),
        (&xte, &yte),
        lgb,
    );
    assert_eq!(ours.len(), theirs.len());
    Some(Oracle {
        ours,
        theirs,
        y: yte,
        model,
    })
}

/// Largest difference relative to `max(|lightgbm|, 1)`.
fn max_rel_diff(ours: &[f64], theirs: &[f64]) -> f64 {
    ours.iter()
        .zip(theirs)
        .map(|(a, b)| (a - b).abs() / b.abs().max(1.0))
        .fold(0.0, f64::max)
}

#[test]
fn california_housing_monotone_matches_lightgbm() {
    let d = load("california_housing");
    let dirs = directions(
        &d,
        &[
            ("median_income", 1),
            ("housing_median_age", 1),
            ("population", -1),
            ("total_rooms", 1),
        ],
    );
    let params = GbdtParams {
        monotone_constraints: dirs.clone(),
        ..GbdtParams::default()
    };
    let Some(Oracle {
        ours, theirs, y, ..
    }) = against_lightgbm(
        "california_housing",
        &params,
        json!({"monotone_constraints": dirs}),
    )
    else {
        return;
    };
    let diff = max_rel_diff(&ours, &theirs);
    let abs = ours
        .iter()
        .zip(&theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    eprintln!(
        "california monotone: largest difference {abs:.3e} (relative {diff:.3e}); rmse {:.1} vs {:.1}",
        rmse(&y, &ours),
        rmse(&y, &theirs)
    );
    assert!(diff <= 1e-6, "largest relative difference {diff}");
}

#[test]
fn california_housing_monotone_penalty_matches_lightgbm() {
    let d = load("california_housing");
    let dirs = directions(&d, &[("median_income", 1), ("latitude", -1)]);
    let params = GbdtParams {
        monotone_constraints: dirs.clone(),
        monotone_penalty: 1.5,
        ..GbdtParams::default()
    };
    let extra = json!({"monotone_constraints": dirs, "monotone_penalty": 1.5});
    let Some(Oracle { ours, theirs, .. }) = against_lightgbm("california_housing", &params, extra)
    else {
        return;
    };
    let diff = max_rel_diff(&ours, &theirs);
    eprintln!("california monotone_penalty 1.5: largest relative difference {diff:.3e}");
    assert!(diff <= 1e-6, "largest relative difference {diff}");
    // the penalty changes the model
    let (train_rows, test_rows) = split(d.x.n_rows, 0.2, 42);
    let (xtr, ytr) = subset(&d, &train_rows);
    let unpenalized = GbdtParams {
        monotone_penalty: 0.0,
        ..params
    };
    let model = gbdt::fit((&xtr, &ytr), None, d.task, &unpenalized, &mut |_| {}).expect("fit");
    let plain = model.predict(&d.x.take_rows(&test_rows)).values;
    assert!(max_rel_diff(&plain, &ours) > 1e-3);
}

#[test]
fn adult_monotone_matches_lightgbm() {
    let d = load("adult");
    let dirs = directions(
        &d,
        &[("education_num", 1), ("hours_per_week", 1), ("age", 1)],
    );
    let params = GbdtParams {
        monotone_constraints: dirs.clone(),
        ..GbdtParams::default()
    };
    let Some(Oracle { ours, theirs, .. }) =
        against_lightgbm("adult", &params, json!({"monotone_constraints": dirs}))
    else {
        return;
    };
    let diff = max_rel_diff(&ours, &theirs);
    eprintln!("adult monotone: largest probability difference {diff:.3e}");
    assert!(diff <= 1e-6, "largest difference {diff}");
}

#[test]
fn interaction_constraints_match_lightgbm() {
    for (name, groups) in [
        (
            "california_housing",
            vec![vec![0, 1, 8], vec![1, 2, 7], vec![5, 6, 7]],
        ),
        (
            "adult",
            vec![
                vec![0, 1, 2, 3],
                vec![4, 5, 6, 7],
                vec![8, 9, 10, 11, 12, 13],
            ],
        ),
    ] {
        let params = GbdtParams {
            interaction_constraints: groups.clone(),
            ..GbdtParams::default()
        };
        let extra = json!({"interaction_constraints": groups});
        let Some(Oracle {
            ours,
            theirs,
            model,
            ..
        }) = against_lightgbm(name, &params, extra)
        else {
            return;
        };
        check_paths(&model, &groups);
        let diff = max_rel_diff(&ours, &theirs);
        eprintln!("{name} interaction: largest relative difference {diff:.3e}");
        assert!(diff <= 1e-6, "{name}: largest relative difference {diff}");
    }
}

fn fit_err(d: &Dataset, params: &GbdtParams) -> String {
    match gbdt::fit((&d.x, &d.y), None, d.task, params, &mut |_| {}) {
        Err(e @ LearnError::InvalidParam { .. }) => e.to_string(),
        other => panic!("expected a parameter error, got {other:?}"),
    }
}

#[test]
fn bad_constraints_are_refused() {
    let d = load("california_housing");
    let n = d.x.n_cols;
    let with = |mc: Vec<i8>| GbdtParams {
        monotone_constraints: mc,
        n_trees: 2,
        ..GbdtParams::default()
    };
    let e = fit_err(&d, &with(vec![1; 3]));
    assert!(
        e.contains("monotone_constraints") && e.contains("3 values for 9"),
        "{e}"
    );
    let mut mc = vec![0; n];
    mc[7] = 2;
    let e = fit_err(&d, &with(mc));
    assert!(e.contains("value 2") && e.contains("median_income"), "{e}");
    let mut mc = vec![0; n];
    mc[8] = -1;
    let e = fit_err(&d, &with(mc));
    assert!(
        e.contains("categorical") && e.contains("ocean_proximity"),
        "{e}"
    );
    let mut mc = vec![0; n];
    mc[7] = 1;
    for objective in [Objective::L1, Objective::Quantile] {
        let p = GbdtParams {
            objective,
            ..with(mc.clone())
        };
        let e = fit_err(&d, &p);
        assert!(
            e.contains(objective.name()) && e.contains("monotone"),
            "{e}"
        );
    }
    // all zeros constrain nothing, so any objective takes them
    let p = GbdtParams {
        objective: Objective::L1,
        ..with(vec![0; n])
    };
    gbdt::fit((&d.x, &d.y), None, d.task, &p, &mut |_| {}).expect("zeros with l1");
    let p = GbdtParams {
        monotone_penalty: -1.0,
        ..with(vec![])
    };
    assert!(fit_err(&d, &p).contains("monotone_penalty"));
    let groups = |g: Vec<Vec<usize>>| GbdtParams {
        interaction_constraints: g,
        n_trees: 2,
        ..GbdtParams::default()
    };
    let e = fit_err(&d, &groups(vec![vec![0, 1], vec![2, 9]]));
    assert!(
        e.contains("interaction_constraints") && e.contains("feature 9"),
        "{e}"
    );
    let e = fit_err(&d, &groups(vec![vec![0], vec![]]));
    assert!(e.contains("group 1 is empty"), "{e}");
}

#[test]
fn constraints_are_optional_in_configs() {
    // configs written before constraints existed still load, and do not gain new keys
    let p: GbdtParams = serde_json::from_value(json!({"n_trees": 5})).expect("old config");
    assert!(p.monotone_constraints.is_empty() && p.interaction_constraints.is_empty());
    let text = serde_json::to_string(&GbdtParams::default()).expect("json");
    assert!(
        !text.contains("monotone") && !text.contains("interaction"),
        "{text}"
    );
    let p: GbdtParams = serde_json::from_value(json!({
        "monotone_constraints": [1, 0, -1],
        "monotone_penalty": 0.5,
        "interaction_constraints": [[0, 1], [2]],
    }))
    .expect("constraints");
    assert_eq!(p.monotone_constraints, [1, 0, -1]);
    assert_eq!(p.interaction_constraints, [vec![0, 1], vec![2]]);
    let back: GbdtParams =
        serde_json::from_str(&serde_json::to_string(&p).expect("json")).expect("round trip");
    assert_eq!(back, p);
}
