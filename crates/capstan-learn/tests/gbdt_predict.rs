//! Batch prediction (the flattened forest behind `predict_raw`) against tree-by-tree
//! prediction, bit for bit: real data, edge values (NaN, infinities, values equal to and next
//! to thresholds, categories in and out of range), short and wide rows, small batches, and
//! random rows.

mod support;

use capstan_frame::Matrix;
use capstan_learn::gbdt::{self, GbdtModel, GbdtParams, Tree};
use support::*;

/// Raw scores summed tree by tree in model order: the reference.
fn by_tree(m: &GbdtModel, x: &Matrix) -> Vec<f64> {
    let k = m.trees_per_round();
    let mut out = Vec::with_capacity(x.n_rows * k);
    for i in 0..x.n_rows {
        let row = x.data.get(i * x.n_cols..(i + 1) * x.n_cols).unwrap_or(&[]);
        let mut s = m.init_scores.clone();
        for (t, tree) in m.trees.iter().enumerate() {
            s[t % k] += tree.predict_row(row);
        }
        out.extend(s);
    }
    out
}

fn assert_same(m: &GbdtModel, x: &Matrix, what: &str) {
    let p = m.predict_raw(x);
    let r = by_tree(m, x);
    assert_eq!(p.values.len(), r.len(), "{what}");
    for (i, (a, b)) in p.values.iter().zip(&r).enumerate() {
        assert!(a.to_bits() == b.to_bits(), "{what}: value {i}: {a} vs {b}");
    }
}

fn fit(d: &Dataset, n_trees: usize, num_leaves: usize) -> GbdtModel {
    let params = GbdtParams {
        n_trees,
        num_leaves,
        ..GbdtParams::default()
    };
    gbdt::fit((&d.x, &d.y), None, d.task, &params, &mut |_| {}).expect("fit")
}

/// A fresh copy, with nothing cached from earlier predictions.
fn fresh(m: &GbdtModel) -> GbdtModel {
    serde_json::from_str(&serde_json::to_string(m).expect("json")).expect("model")
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[(self.next() % v.len() as u64) as usize]
    }
}

/// Per feature, values that probe the model's splits: its thresholds and their neighbours,
/// category codes in and out of the bitsets, NaN, infinities, signed zeros and extremes.
fn probes(m: &GbdtModel) -> Vec<Vec<f64>> {
    let generic = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.0,
        -0.0,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        -1.0,
        1e300,
        2.5,
        4_294_967_296.0,
    ];
    let mut out: Vec<Vec<f64>> = vec![generic.to_vec(); m.n_features];
    for t in &m.trees {
        for i in 0..t.n_nodes() {
            let f = t.split_feature[i] as usize;
            let c = t.cat_index[i];
            if c < 0 {
                let v = t.threshold[i];
                let bits = v.to_bits();
                out[f].extend([
                    v,
                    -v,
                    f64::from_bits(bits.wrapping_add(1)),
                    f64::from_bits(bits.wrapping_sub(1)),
                ]);
            } else {
                let c = c as usize;
                let words = t.cat_boundaries[c + 1] - t.cat_boundaries[c];
                out[f].extend((0..32 * words + 3).map(f64::from));
            }
        }
    }
    out
}

/// `n` rows of `width` values drawn from the probes (missing probes read NaN).
fn probe_rows(m: &GbdtModel, width: usize, n: usize, seed: u64) -> Matrix {
    let pool = probes(m);
    let mut rng = Rng(seed);
    let mut data = Vec::with_capacity(n * width);
    for _ in 0..n {
        for j in 0..width {
            data.push(match pool.get(j) {
                Some(p) => rng.pick(p),
                None => f64::NAN,
            });
        }
    }
    Matrix::new(n, (0..width).map(|j| format!("f{j}")).collect(), data)
}

/// Random rows: each value is a probe, a training value, or a uniform draw.
fn random_rows(m: &GbdtModel, x: &Matrix, n: usize, seed: u64) -> Matrix {
    let pool = probes(m);
    let mut rng = Rng(seed);
    let mut data = Vec::with_capacity(n * x.n_cols);
    for _ in 0..n {
        for (j, p) in pool.iter().enumerate().take(x.n_cols) {
            let v = match rng.next() % 3 {
                0 => rng.pick(p),
                1 => x.get((rng.next() % x.n_rows as u64) as usize, j),
                _ => (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * 200.0 - 100.0,
            };
            data.push(v);
        }
    }
    let mut out = Matrix::new(n, x.feature_names.clone(), data);
    out.feature_kinds = x.feature_kinds.clone();
    out
}

/// The first `n` rows and the first `cols` columns (`cols` beyond the width add NaN columns).
fn reshape(x: &Matrix, n: usize, cols: usize) -> Matrix {
    let mut data = Vec::with_capacity(n * cols);
    for i in 0..n {
        for j in 0..cols {
            data.push(if j < x.n_cols { x.get(i, j) } else { f64::NAN });
        }
    }
    Matrix::new(n, (0..cols).map(|j| format!("c{j}")).collect(), data)
}

/// Batches around the serving path (< 64 rows) and the block size.
fn check_batches(m: &GbdtModel, x: &Matrix, what: &str) {
    for n in [0, 1, 7, 8, 9, 63, 64, 65, 127, 129, 200] {
        if n <= x.n_rows {
            assert_same(
                m,
                &x.take_rows(&(0..n).collect::<Vec<_>>()),
                &format!("{what} {n} rows"),
            );
        }
    }
}

#[test]
fn adult_with_categories_and_missing_values_matches_tree_walk() {
    let d = load("adult");
    let m = fit(&d, 40, 31);
    assert!(m.trees.iter().any(|t| t.cat_index.iter().any(|&c| c >= 0)));
    assert!(d.x.data.iter().any(|v| v.is_nan()));
    assert_same(&m, &d.x, "adult");
    check_batches(&m, &d.x, "adult");
    assert_same(&m, &probe_rows(&m, d.x.n_cols, 5_000, 1), "adult probes");
    // Categorical columns with codes that are negative, fractional, huge or unseen.
    let mut x = d.x.take_rows(&(0..500).collect::<Vec<_>>());
    let cats = categorical_columns(&x);
    assert!(!cats.is_empty());
    let codes = [
        -1.0,
        -0.0,
        0.5,
        1e9,
        1e300,
        f64::INFINITY,
        4_294_967_295.0,
        70.0,
    ];
    for i in 0..x.n_rows {
        for (n, &j) in cats.iter().enumerate() {
            x.data[i * x.n_cols + j] = codes[(i + n) % codes.len()];
        }
    }
    assert_same(&m, &x, "adult odd codes");
}

#[test]
fn letter_multiclass_matches_tree_walk() {
    let d = load("letter");
    let m = fit(&d, 8, 15);
    assert_eq!(m.trees_per_round(), 26);
    assert_same(&m, &d.x, "letter");
    check_batches(&m, &d.x, "letter");
    assert_same(&m, &probe_rows(&m, d.x.n_cols, 3_000, 2), "letter probes");
    // Enough trees per class that each class's chain is cut into several segments.
    let mut long = fresh(&m);
    long.trees = m
        .trees
        .iter()
        .cycle()
        .take(m.trees.len() * 60)
        .cloned()
        .collect();
    let x = d.x.take_rows(&(0..300).collect::<Vec<_>>());
    assert_same(&long, &x, "letter, 480 rounds");
}

#[test]
fn california_regression_matches_tree_walk_on_short_and_wide_rows() {
    let d = load("california_housing");
    let m = fit(&d, 60, 63);
    assert_same(&m, &d.x, "california");
    check_batches(&m, &d.x, "california");
    assert_same(
        &m,
        &probe_rows(&m, d.x.n_cols, 5_000, 3),
        "california probes",
    );
    // Fewer columns than the model (the rest read as NaN), and extra columns.
    for cols in [0, 1, d.x.n_cols - 3, d.x.n_cols + 2] {
        assert_same(&m, &reshape(&d.x, 300, cols), &format!("{cols} columns"));
    }
    // Data shorter than the declared rows: the missing rows read as NaN.
    let mut short = reshape(&d.x, 100, d.x.n_cols);
    short.n_rows = 150;
    assert_same(&m, &short, "short data");
}

#[test]
fn single_leaf_trees_and_nan_thresholds_match_tree_walk() {
    let d = load("california_housing");
    let base = fit(&d, 20, 31);
    let x = probe_rows(&base, d.x.n_cols, 2_000, 4);
    // Trees with no split, first and in the middle (flattened).
    let mut m = fresh(&base);
    for t in [0, 7] {
        m.trees[t] = Tree {
            split_feature: Vec::new(),
            threshold: Vec::new(),
            default_left: Vec::new(),
            cat_index: Vec::new(),
            cat_boundaries: vec![0],
            cat_bitset: Vec::new(),
            left_child: Vec::new(),
            right_child: Vec::new(),
            split_gain: Vec::new(),
            node_count: Vec::new(),
            leaf_value: vec![0.25 * t as f64 - 1.0],
            leaf_count: vec![1],
        };
    }
    assert_same(&m, &x, "single-leaf trees");
    // A NaN threshold is not flattened; the trees are walked instead.
    let mut m = fresh(&base);
    m.trees[3].threshold[0] = f64::NAN;
    assert_same(&m, &x, "NaN threshold");
}

#[test]
fn random_rows_match_tree_walk() {
    for (name, trees, leaves) in [
        ("adult", 30, 63),
        ("letter", 4, 31),
        ("california_housing", 40, 127),
    ] {
        let d = load(name);
        let m = fit(&d, trees, leaves);
        assert_same(&m, &random_rows(&m, &d.x, 20_000, 5), name);
    }
}

/// `m` with every categorical split's left set replaced by the even codes below `32 * words`.
fn with_even_category_sets(m: &GbdtModel, words: usize) -> GbdtModel {
    let mut m = fresh(m);
    for t in &mut m.trees {
        let n_sets = t.cat_boundaries.len() - 1;
        t.cat_boundaries = (0..=n_sets).map(|c| (c * words) as u32).collect();
        t.cat_bitset = vec![0x5555_5555; n_sets * words];
    }
    m
}

#[test]
fn forests_needing_wide_ranks_match_tree_walk() {
    // More than 254 distinct thresholds on a feature: the trees are walked one by one.
    let d = load("california_housing");
    let base = fit(&d, 100, 31);
    let x = probe_rows(&base, d.x.n_cols, 2_000, 6);
    let mut m = fresh(&base);
    let mut n = 0.0;
    for t in &mut m.trees {
        for th in &mut t.threshold {
            *th += n * 1e-7;
            n += 1.0;
        }
    }
    assert_same(&m, &x, "distinct thresholds");
    assert_same(
        &m,
        &probe_rows(&m, d.x.n_cols, 2_000, 7),
        "distinct thresholds, probes",
    );
    // Categorical sets naming 32 codes (one-word sets), 64 and 128 codes (four-word sets)
    // and 256 codes (walked one by one).
    let d = load("adult");
    let base = fit(&d, 20, 31);
    for words in [2, 4, 8, 16] {
        let m = with_even_category_sets(&base, words);
        assert_same(&m, &d.x, &format!("{words}-word sets"));
        let probes = probe_rows(&m, d.x.n_cols, 3_000, 8);
        assert_same(&m, &probes, &format!("{words}-word sets, probes"));
    }
}

#[test]
fn leaf_indices_match_lightgbm_and_sum_to_the_scores() {
    for (name, objective) in [("adult", "binary"), ("california_housing", "regression")] {
        let d = load(name);
        let (train_rows, test_rows) = split(d.x.n_rows, 0.2, 42);
        let (xtr, ytr) = subset(&d, &train_rows);
        let (xte, yte) = subset(&d, &test_rows);
        let params = GbdtParams {
            n_trees: 30,
            ..GbdtParams::default()
        };
        let m = gbdt::fit((&xtr, &ytr), None, d.task, &params, &mut |_| {}).expect("fit");
        let leaves = m.predict_leaves(&xte).expect("leaves");
        assert_eq!(leaves.len(), xte.n_rows * m.n_trees());
        // The leaves' values, summed in tree order, are the raw scores bit for bit.
        let raw = m.predict_raw(&xte).values;
        for (i, row) in leaves.chunks_exact(m.n_trees()).enumerate() {
            let sum = m
                .trees
                .iter()
                .zip(row)
                .fold(m.init_scores[0], |s, (t, &l)| s + t.leaf_value[l as usize]);
            assert_eq!(sum.to_bits(), raw[i].to_bits(), "{name} row {i}");
        }
        let Some(py) = python() else { continue };
        let lightgbm = lightgbm_predict(
            &py,
            &format!("{name}-leaves"),
            (&xtr, &ytr),
            (&xte, &yte),
            serde_json::json!({
                "objective": objective, "num_iterations": 30, "learning_rate": 0.1,
                "num_leaves": 31, "num_threads": 1, "deterministic": true, "seed": 0,
                "verbose": -1, "pred_leaf": true,
                "categorical_feature": categorical_columns(&xtr),
            }),
        );
        assert_eq!(lightgbm.len(), leaves.len(), "{name}");
        let differ = leaves
            .iter()
            .zip(&lightgbm)
            .filter(|(a, b)| f64::from(**a) != **b)
            .count();
        assert_eq!(
            differ, 0,
            "{name}: {differ} leaf indices differ from LightGBM's"
        );
    }
    // A malformed model is an error, not a panic.
    let d = load("california_housing");
    let mut m = fit(&d, 3, 7);
    m.trees[1].left_child[0] = 99;
    assert!(m.predict_leaves(&d.x).is_err());
}
