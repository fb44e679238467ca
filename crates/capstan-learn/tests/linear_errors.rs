//! Linear learners: rejected inputs, edge cases, and determinism across thread counts.

use std::path::Path;

use capstan_frame::Matrix;
use capstan_learn::linear::{self, LinearModel, LinearParams, Penalty};
use capstan_learn::{LearnError, Task};

fn matrix(rows: &[&[f64]]) -> Matrix {
    let p = rows.first().map_or(0, |r| r.len());
    let names = (0..p).map(|j| format!("x{j}")).collect();
    let data = rows.iter().flat_map(|r| r.iter().copied()).collect();
    Matrix::new(rows.len(), names, data)
}

fn small() -> (Matrix, Vec<f64>) {
    let x = matrix(&[
        &[0.5, 1.0],
        &[1.5, -0.3],
        &[-0.7, 2.2],
        &[2.0, 0.1],
        &[-1.1, -0.8],
        &[0.3, 0.9],
    ]);
    (x, vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0])
}

fn param_error(result: Result<LinearModel, LearnError>, expected: &str) {
    match result {
        Err(LearnError::InvalidParam { name, message }) => {
            assert_eq!(name, expected, "{message}");
            assert!(
                message.starts_with(|c: char| !c.is_uppercase()),
                "{message}"
            );
        }
        other => panic!("expected invalid '{expected}', got {other:?}"),
    }
}

fn data_error(result: Result<LinearModel, LearnError>, needle: &str) {
    match result {
        Err(LearnError::InvalidData(message)) => {
            assert!(message.contains(needle), "'{message}' lacks '{needle}'");
            assert!(
                message.starts_with(|c: char| !c.is_uppercase()),
                "{message}"
            );
        }
        other => panic!("expected invalid data ({needle}), got {other:?}"),
    }
}

#[test]
fn bad_parameters_are_rejected() {
    let (x, y) = small();
    let base = LinearParams::default();
    for c in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let p = LinearParams { c, ..base.clone() };
        param_error(linear::fit(&x, &y, Task::Binary, &p), "c");
    }
    // `c` is unused (as in scikit-learn) without a penalty.
    let p = LinearParams {
        c: 0.0,
        penalty: Penalty::None,
        ..base.clone()
    };
    assert!(linear::fit(&x, &y, Task::Binary, &p).is_ok());
    for l1_ratio in [-0.1, 1.5, f64::NAN] {
        let p = LinearParams {
            penalty: Penalty::ElasticNet,
            l1_ratio,
            ..base.clone()
        };
        param_error(linear::fit(&x, &y, Task::Binary, &p), "l1_ratio");
        param_error(linear::fit(&x, &y, Task::Regression, &p), "l1_ratio");
    }
    for alpha in [-1.0, f64::NAN] {
        let p = LinearParams {
            alpha,
            penalty: Penalty::L1,
            ..base.clone()
        };
        param_error(linear::fit(&x, &y, Task::Regression, &p), "alpha");
    }
    let p = LinearParams {
        tol: f64::NAN,
        ..base.clone()
    };
    param_error(linear::fit(&x, &y, Task::Binary, &p), "tol");
    let p = LinearParams {
        max_iter: 0,
        ..base.clone()
    };
    param_error(linear::fit(&x, &y, Task::Binary, &p), "max_iter");
    let task = Task::Multiclass { n_classes: 1 };
    param_error(linear::fit(&x, &[0.0; 6], task, &base), "n_classes");
}

#[test]
fn bad_data_is_rejected() {
    let (x, y) = small();
    let p = LinearParams::default();
    let empty = Matrix::new(0, vec!["a".into()], vec![]);
    data_error(linear::fit(&empty, &[], Task::Regression, &p), "zero rows");
    data_error(linear::fit(&x, &y[..5], Task::Binary, &p), "y has 5 values");

    let mut nan_x = x.clone();
    nan_x.data[3] = f64::NAN;
    data_error(
        linear::fit(&nan_x, &y, Task::Binary, &p),
        "row 1, column 1 ('x1')",
    );
    let mut inf_y = y.clone();
    inf_y[2] = f64::INFINITY;
    data_error(linear::fit(&x, &inf_y, Task::Regression, &p), "row 2");

    let mut bad = y.clone();
    bad[4] = 2.0;
    data_error(linear::fit(&x, &bad, Task::Binary, &p), "not a class index");
    bad[4] = 0.5;
    data_error(linear::fit(&x, &bad, Task::Binary, &p), "not a class index");
    bad[4] = -1.0;
    let task = Task::Multiclass { n_classes: 3 };
    data_error(linear::fit(&x, &bad, task, &p), "not a class index");

    data_error(
        linear::fit(&x, &[1.0; 6], Task::Binary, &p),
        "fewer than 2 classes",
    );
    data_error(linear::fit(&x, &y, task, &p), "class 2 has no rows");

    let mut ragged = x.clone();
    ragged.data.pop();
    data_error(
        linear::fit(&ragged, &y, Task::Binary, &p),
        "holds 11 values",
    );
}

#[test]
fn intercept_only_models_match_closed_forms() {
    let y = [0.0, 1.0, 1.0, 0.0, 1.0];
    let x = Matrix::new(5, vec![], vec![]);
    let p = LinearParams {
        tol: 1e-12,
        ..LinearParams::default()
    };
    let m = linear::fit(&x, &y, Task::Binary, &p).expect("fit");
    assert!((m.predict(&x).values[0] - 0.6).abs() < 1e-10);
    let m = linear::fit(&x, &y, Task::Regression, &p).expect("fit");
    assert!((m.intercepts[0] - 0.6).abs() < 1e-14);
    let y3 = [0.0, 1.0, 2.0, 2.0, 1.0, 2.0];
    let x = Matrix::new(6, vec![], vec![]);
    let m = linear::fit(&x, &y3, Task::Multiclass { n_classes: 3 }, &p).expect("fit");
    let probs = m.predict(&x);
    assert_eq!(probs.n_outputs, 3);
    for (got, want) in probs.row(0).iter().zip([1.0 / 6.0, 2.0 / 6.0, 3.0 / 6.0]) {
        assert!((got - want).abs() < 1e-9, "{got} vs {want}");
    }
    assert!(
        m.intercepts.iter().sum::<f64>().abs() < 1e-12,
        "centered intercepts"
    );
}

#[test]
fn separable_data_without_penalty_stops_cleanly() {
    let x = matrix(&[&[-2.0], &[-1.0], &[1.0], &[2.0]]);
    let y = [0.0, 0.0, 1.0, 1.0];
    let p = LinearParams {
        penalty: Penalty::None,
        max_iter: 30,
        ..LinearParams::default()
    };
    let (m, _) = linear::fit_with_info(&x, &y, Task::Binary, &p).expect("fit");
    assert!(m.coefficients.iter().all(|v| v.is_finite() && *v > 0.0));
    let probs = m.predict(&x).values;
    assert!(probs.iter().all(|v| v.is_finite()));
    assert!(probs[0] < 0.01 && probs[3] > 0.99, "{probs:?}");
}

#[test]
fn singular_least_squares_falls_back_to_near_min_norm() {
    // Column 1 duplicates column 0 and column 2 is constant.
    let rows: Vec<[f64; 3]> = (0..20)
        .map(|i| {
            let t = i as f64 * 0.37;
            [t.sin(), t.sin(), 4.0]
        })
        .collect();
    let y: Vec<f64> = (0..20)
        .map(|i| 1.0 + 3.0 * (i as f64 * 0.37).sin())
        .collect();
    let refs: Vec<&[f64]> = rows.iter().map(|r| r.as_slice()).collect();
    let x = matrix(&refs);
    let p = LinearParams {
        penalty: Penalty::None,
        ..LinearParams::default()
    };
    let m = linear::fit(&x, &y, Task::Regression, &p).expect("fit");
    // Minimum-norm split of the duplicated weight, nothing on the constant.
    assert!(
        (m.coefficients[0] - 1.5).abs() < 1e-6,
        "{:?}",
        m.coefficients
    );
    assert!(
        (m.coefficients[1] - 1.5).abs() < 1e-6,
        "{:?}",
        m.coefficients
    );
    assert!(m.coefficients[2].abs() < 1e-6, "{:?}", m.coefficients);
    for (pred, want) in m.predict(&x).values.iter().zip(&y) {
        assert!((pred - want).abs() < 1e-6);
    }
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "wrong number of columns")]
fn predict_with_wrong_width_trips_debug_assert() {
    let (x, y) = small();
    let m = linear::fit(&x, &y, Task::Binary, &LinearParams::default()).expect("fit");
    let narrow = matrix(&[&[1.0]]);
    let _ = m.predict(&narrow);
}

#[test]
#[cfg(not(debug_assertions))]
fn predict_with_wrong_width_gives_nan() {
    let (x, y) = small();
    let m = linear::fit(&x, &y, Task::Binary, &LinearParams::default()).expect("fit");
    let narrow = matrix(&[&[1.0]]);
    assert!(m.predict(&narrow).values.iter().all(|v| v.is_nan()));
}

/// Real data large enough to take the parallel kernels.
fn letter(n_rows: usize) -> (Matrix, Vec<f64>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/letter/letter.csv");
    let text = std::fs::read_to_string(&path).expect("letter.csv");
    let (mut data, mut y) = (Vec::new(), Vec::new());
    for line in text.lines().skip(1).take(n_rows) {
        let fields: Vec<&str> = line.split(',').collect();
        let (label, feats) = fields.split_last().expect("fields");
        data.extend(feats.iter().map(|v| v.parse::<f64>().expect("number")));
        y.push(f64::from(label.as_bytes()[0] - b'A'));
    }
    let names = (0..16).map(|j| format!("f{j}")).collect();
    (Matrix::new(y.len(), names, data), y)
}

#[test]
fn fits_are_bit_identical_across_thread_counts() {
    let (x, y) = letter(3000);
    let multi = Task::Multiclass { n_classes: 26 };
    let binary_y: Vec<f64> = y.iter().map(|v| f64::from(u8::from(*v < 13.0))).collect();
    let cases: Vec<(Task, &[f64], Penalty)> = vec![
        (multi, &y, Penalty::L2),
        (multi, &y, Penalty::ElasticNet),
        (Task::Binary, &binary_y, Penalty::L1),
        (Task::Regression, &y, Penalty::L2),
        (Task::Regression, &y, Penalty::L1),
    ];
    for (task, target, penalty) in cases {
        let p = LinearParams {
            penalty,
            alpha: 0.1,
            ..LinearParams::default()
        };
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            pool.install(|| linear::fit(&x, target, task, &p).expect("fit"))
        };
        let (one, three) = (run(1), run(3));
        let bits = |m: &LinearModel| -> Vec<u64> {
            m.coefficients
                .iter()
                .chain(&m.intercepts)
                .map(|v| v.to_bits())
                .collect()
        };
        assert_eq!(bits(&one), bits(&three), "{task:?} {penalty:?}");
        let (a, b) = (one.predict(&x).values, three.predict(&x).values);
        assert!(a.iter().zip(&b).all(|(u, v)| u.to_bits() == v.to_bits()));
    }
}
