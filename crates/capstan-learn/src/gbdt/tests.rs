//! Property tests of the kernels on real data: binning, histograms, split rules, and
//! prediction from bins versus raw values.

use std::path::Path;

use capstan_frame::{FeatureKind, Matrix};

use super::binning::{BinConfig, BinMapper, BinnedData, find_bin_zero_as_one_bin, greedy_find_bin};
use super::grow::{GrowBuffers, Grower, Grown, binned_leaf};
use super::histogram::{self, GradPair, HistPool};
use super::rng::{Rng, sample};
use super::{GbdtParams, Tree, boost};
use crate::Task;

/// A data set from `shared/data` (no quoted fields): text columns become sorted codes,
/// empty cells NaN, the last column is the target.
fn load(name: &str, max_rows: usize) -> (Matrix, Vec<f64>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(name)
        .join(format!("{name}.csv"));
    let text = std::fs::read_to_string(path).expect("data set");
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .expect("header")
        .split(',')
        .map(String::from)
        .collect();
    let rows: Vec<Vec<&str>> = lines
        .take(max_rows)
        .map(|l| l.split(',').collect())
        .collect();
    let n_cols = header.len() - 1;
    let mut data = vec![0.0; rows.len() * n_cols];
    let mut kinds = Vec::new();
    for j in 0..n_cols {
        let numeric = rows
            .iter()
            .all(|r| r[j].is_empty() || r[j].parse::<f64>().is_ok());
        if numeric {
            for (i, r) in rows.iter().enumerate() {
                data[i * n_cols + j] = r[j].parse().unwrap_or(f64::NAN);
            }
            kinds.push(FeatureKind::Numeric);
        } else {
            let mut levels: Vec<&str> = rows
                .iter()
                .map(|r| r[j])
                .filter(|s| !s.is_empty())
                .collect();
            levels.sort_unstable();
            levels.dedup();
            for (i, r) in rows.iter().enumerate() {
                data[i * n_cols + j] = levels.binary_search(&r[j]).map_or(f64::NAN, |c| c as f64);
            }
            kinds.push(FeatureKind::Categorical {
                n_categories: levels.len() as u32,
            });
        }
    }
    let y = rows
        .iter()
        .map(|r| r[n_cols].parse().expect("target"))
        .collect();
    let mut x = Matrix::new(rows.len(), header[..n_cols].to_vec(), data);
    x.feature_kinds = kinds;
    (x, y)
}

fn config(max_bins: usize) -> BinConfig {
    BinConfig {
        max_bins,
        min_data_in_bin: 3,
        max_cat_to_onehot: 4,
        sample_cnt: 200_000,
        seed: 0,
    }
}

#[test]
fn bins_are_monotone_and_match_thresholds() {
    let (x, _) = load("california_housing", 20_000);
    for max_bins in [2, 7, 63, 255] {
        let data = BinnedData::build(&x, &config(max_bins));
        for (f, mapper) in data.mappers.iter().enumerate() {
            assert!(
                mapper.n_bins() <= max_bins,
                "feature {f}: {} bins",
                mapper.n_bins()
            );
            let BinMapper::Numeric { upper, has_nan } = mapper else {
                continue;
            };
            assert!(upper.windows(2).all(|w| w[0] < w[1]), "bounds increase");
            assert_eq!(*has_nan, (0..x.n_rows).any(|i| x.get(i, f).is_nan()));
            let mut values: Vec<f64> = (0..x.n_rows)
                .map(|i| x.get(i, f))
                .filter(|v| !v.is_nan())
                .collect();
            values.sort_by(f64::total_cmp);
            let bins: Vec<u8> = values.iter().map(|&v| mapper.bin_of(v)).collect();
            assert!(
                bins.windows(2).all(|w| w[0] <= w[1]),
                "feature {f}: bins not monotone"
            );
            for (&v, &b) in values.iter().zip(&bins) {
                for t in 0..upper.len() {
                    assert_eq!(
                        v <= mapper.upper_bound(t),
                        b as usize <= t,
                        "feature {f} value {v}"
                    );
                }
            }
        }
    }
}

#[test]
fn few_distinct_values_get_one_bin_each_at_midpoints() {
    let distinct = [1.0, 2.0, 4.0, 8.0];
    let counts = [5, 5, 5, 5];
    let upper = greedy_find_bin(&distinct, &counts, 255, 20, 1);
    assert_eq!(upper.len(), 4);
    assert!(
        (upper[0] - 1.5).abs() < 1e-12
            && (upper[1] - 3.0).abs() < 1e-12
            && (upper[2] - 6.0).abs() < 1e-12
    );
    assert_eq!(upper[3], f64::INFINITY);
    // zero gets a bin of its own between negatives and positives
    let upper = find_bin_zero_as_one_bin(&[-2.0, -1.0, 0.0, 3.0], &[4, 4, 4, 4], 255, 16, 3);
    let bin = |x: f64| upper.partition_point(|&u| u < x);
    assert!(bin(-1.0) < bin(0.0) && bin(0.0) < bin(3.0));
    // more values than bins: roughly equal counts
    let distinct: Vec<f64> = (0..1000).map(f64::from).collect();
    let upper = greedy_find_bin(&distinct, &[1; 1000], 10, 1000, 3);
    assert_eq!(upper.len(), 10);
}

#[test]
fn categorical_bins_keep_frequent_codes_and_send_the_rest_to_other() {
    let (x, _) = load("adult", 5000);
    let data = BinnedData::build(&x, &config(255));
    for (f, mapper) in data.mappers.iter().enumerate() {
        let BinMapper::Categorical {
            code_to_bin,
            bin_to_code,
            ..
        } = mapper
        else {
            continue;
        };
        let other = bin_to_code.len() as u8;
        assert_eq!(code_to_bin.len(), bin_to_code.len());
        for (b, &c) in bin_to_code.iter().enumerate() {
            assert_eq!(mapper.bin_of(f64::from(c)) as usize, b);
            assert!(code_to_bin.contains(&(c, b as u8)));
        }
        assert_eq!(mapper.bin_of(f64::NAN), other);
        assert_eq!(mapper.bin_of(-1.0), other);
        assert_eq!(mapper.bin_of(1e6), other, "feature {f}: unseen codes");
    }
}

fn gradients(n: usize, seed: u64) -> Vec<GradPair> {
    let mut rng = Rng::stream(seed, 0);
    let g: Vec<f64> = (0..n).map(|_| rng.next_f64() * 2.0 - 1.0).collect();
    let h: Vec<f64> = (0..n).map(|_| rng.next_f64() * 0.25).collect();
    let mut out = Vec::new();
    histogram::quantize(&g, &h, &mut out);
    out
}

#[test]
fn parent_histogram_is_exactly_left_plus_right() {
    let (x, _) = load("adult", 20_000);
    let data = BinnedData::build(&x, &config(255));
    let grads = gradients(x.n_rows, 7);
    let used = vec![true; data.n_features()];
    let rows: Vec<u32> = (0..x.n_rows as u32).filter(|r| r % 3 != 0).collect();
    // split on the bins of feature 0 (age)
    let col = data.column(0);
    let (left, right): (Vec<u32>, Vec<u32>) = rows.iter().partition(|&&r| col[r as usize] < 20);
    let pool = HistPool::new(data.n_features());
    let build = |rows: &[u32]| {
        let mut h = pool.take();
        histogram::build(&data, rows, &grads, &used, &mut h, &pool);
        h
    };
    let (parent, l, r) = (build(&rows), build(&left), build(&right));
    for ((p, l), r) in parent
        .iter()
        .flatten()
        .zip(l.iter().flatten())
        .zip(r.iter().flatten())
    {
        assert_eq!(*p, *l + *r);
    }
    let mut derived = parent.clone();
    histogram::subtract(&mut derived, &l, &data, &used);
    assert_eq!(derived, r);
    // every feature's histogram sums to the leaf's totals
    let total = histogram::sum_rows(&rows, &grads);
    for f in 0..data.n_features() {
        let s = data
            .feature_hist(&parent, f)
            .iter()
            .fold(GradPair::default(), |a, b| a + *b);
        assert_eq!((s.g, s.h), (total.g, total.h));
    }
}

/// Grows one tree on adult with `threads` threads.
fn grow_adult(threads: usize, num_leaves: usize) -> (Grown, Vec<u32>) {
    let (x, _) = load("adult", 20_000);
    let data = BinnedData::build(&x, &config(255));
    let mut rng = Rng::stream(11, 0);
    let g: Vec<f64> = (0..x.n_rows).map(|_| rng.next_f64() * 2.0 - 1.0).collect();
    let h: Vec<f64> = (0..x.n_rows).map(|_| rng.next_f64() * 0.25).collect();
    let mut grads = Vec::new();
    let scales = histogram::quantize(&g, &h, &mut grads);
    let used = vec![true; data.n_features()];
    let bag: Vec<u32> = (0..x.n_rows as u32).filter(|r| r % 5 != 0).collect();
    let params = GbdtParams {
        num_leaves,
        ..GbdtParams::default()
    };
    let params = boost::grow_params(&params, data.n_features());
    let grower = Grower {
        data: &data,
        grads: &grads,
        scales,
        used: &used,
        params: &params,
        by_node: None,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool");
    let grown = pool.install(|| grower.grow(&bag, &mut GrowBuffers::new(&data)));
    (grown, bag)
}

#[test]
fn leaves_split_ahead_of_their_turn_give_the_serial_tree() {
    for num_leaves in [2, 3, 31, 255] {
        let (serial, bag) = grow_adult(1, num_leaves);
        assert_eq!(serial.tree.leaf_value.len(), num_leaves);
        for threads in [2, 3] {
            let (grown, _) = grow_adult(threads, num_leaves);
            assert_eq!(
                grown.tree, serial.tree,
                "{num_leaves} leaves, {threads} threads"
            );
            assert_eq!(grown.rules, serial.rules);
            assert_eq!(grown.ranges, serial.ranges);
            // leaves split ahead but never committed have their rows back in order
            assert_eq!(grown.rows, serial.rows);
        }
        let mut rows = Vec::new();
        for &(s, e) in &serial.ranges {
            let leaf = &serial.rows[s..e];
            assert!(
                leaf.windows(2).all(|w| w[0] < w[1]),
                "a leaf's rows increase"
            );
            rows.extend_from_slice(leaf);
        }
        rows.sort_unstable();
        assert_eq!(rows, bag, "every bagged row is in one leaf");
    }
}

#[test]
fn quantized_sums_are_close_to_real_sums() {
    let mut rng = Rng::stream(3, 0);
    let g: Vec<f64> = (0..10_000).map(|_| (rng.next_f64() - 0.5) * 1e5).collect();
    let h = vec![1.0; g.len()];
    let mut q = Vec::new();
    let sc = histogram::quantize(&g, &h, &mut q);
    let rows: Vec<u32> = (0..g.len() as u32).collect();
    let s = histogram::sum_rows(&rows, &q);
    let real: f64 = g.iter().sum();
    assert!((sc.g(&s) - real).abs() < 1e-6 * g.len() as f64);
    assert_eq!(sc.h(&s), g.len() as f64);
}

fn fit(x: &Matrix, y: &[f64], task: Task, params: &GbdtParams) -> boost::Fitted {
    boost::fit((x, y), None, None, task, params, &mut |_| {}).expect("fit")
}

#[test]
fn binned_prediction_equals_raw_prediction_on_training_rows() {
    let (x, y) = load("california_housing", 6000);
    let cases = [
        GbdtParams {
            n_trees: 15,
            ..GbdtParams::default()
        },
        GbdtParams {
            n_trees: 15,
            bagging_fraction: 0.6,
            bagging_freq: 2,
            feature_fraction: 0.7,
            max_bins: 16,
            seed: 11,
            ..GbdtParams::default()
        },
    ];
    for params in cases {
        let fitted = fit(&x, &y, Task::Regression, &params);
        let raw = fitted.model.predict_raw(&x).values;
        assert_eq!(
            raw, fitted.train_scores,
            "scores from bins differ from raw predictions"
        );
    }
}

#[test]
fn tree_paths_agree_in_bin_space_and_value_space() {
    let (x, y) = load("adult", 8000);
    let y: Vec<f64> = y.iter().map(|&v| f64::from(v > 0.5)).collect();
    let params = GbdtParams {
        n_trees: 5,
        num_leaves: 63,
        min_data_in_leaf: 5,
        min_data_per_group: 10,
        ..GbdtParams::default()
    };
    let model = fit(&x, &y, Task::Binary, &params).model;
    let data = BinnedData::build(
        &x,
        &BinConfig {
            max_bins: params.max_bins,
            min_data_in_bin: params.min_data_in_bin,
            max_cat_to_onehot: params.max_cat_to_onehot,
            sample_cnt: params.bin_construct_sample_cnt,
            seed: params.seed,
        },
    );
    let has_cat_split = model
        .trees
        .iter()
        .any(|t| t.cat_index.iter().any(|&c| c >= 0));
    assert!(has_cat_split, "adult should produce categorical splits");
    // Rebuild each tree's bin-space rules from its raw thresholds and compare leaves.
    for tree in &model.trees {
        let rules: Vec<super::split::Rule> = (0..tree.n_nodes())
            .map(|i| {
                let f = tree.split_feature[i] as usize;
                match &data.mappers[f] {
                    BinMapper::Numeric { upper, .. } => super::split::Rule::Numeric {
                        bin_threshold: upper.partition_point(|&u| u < tree.threshold[i]) as u8,
                        default_left: tree.default_left[i],
                    },
                    BinMapper::Categorical { bin_to_code, .. } => {
                        let mut left_bins = [0u64; 4];
                        for (b, &c) in bin_to_code.iter().enumerate() {
                            if tree.goes_left(i, f64::from(c)) {
                                left_bins[b >> 6] |= 1 << (b & 63);
                            }
                        }
                        super::split::Rule::Categorical { left_bins }
                    }
                }
            })
            .collect();
        for r in 0..x.n_rows {
            assert_eq!(
                binned_leaf(tree, &rules, &data, r),
                tree.leaf_of(|f| x.get(r, f)),
                "row {r}"
            );
        }
    }
}

#[test]
fn rng_streams_are_reproducible_and_distinct() {
    let a: Vec<u64> = (0..5)
        .scan(Rng::stream(9, 1), |r, _| Some(r.next_u64()))
        .collect();
    let b: Vec<u64> = (0..5)
        .scan(Rng::stream(9, 1), |r, _| Some(r.next_u64()))
        .collect();
    let c: Vec<u64> = (0..5)
        .scan(Rng::stream(9, 2), |r, _| Some(r.next_u64()))
        .collect();
    assert_eq!(a, b);
    assert_ne!(a, c);
    let s = sample(&mut Rng::stream(1, 1), 100, 10);
    assert_eq!(s.len(), 10);
    assert!(s.windows(2).all(|w| w[0] < w[1]) && s[9] < 100);
}

/// Every single-output loss: the gradient is the derivative of the reported loss in the raw
/// score (times 1/2 for the squared error and the deviances), and the hessian its second
/// derivative (times e^0.7 for Poisson's damped hessian; 1 for the piecewise-linear losses).
#[test]
fn gradients_are_derivatives_of_the_losses() {
    use super::objective::{Loss, point_gradient, point_loss};
    let (_, y) = load("bike_sharing_hourly", 300);
    let losses = [
        (Loss::L2, 0.5, false),
        (Loss::L1, 1.0, false),
        (Loss::Huber { alpha: 20.0 }, 1.0, false),
        (Loss::Quantile { alpha: 0.8 }, 1.0, false),
        (
            Loss::Poisson {
                max_delta_step: 0.7,
            },
            0.5,
            true,
        ),
        (Loss::Tweedie { power: 1.3 }, 0.5, true),
        (Loss::Tweedie { power: 1.0 }, 0.5, true),
        (Loss::Gamma, 0.5, true),
        (Loss::Binary, 1.0, false),
    ];
    for (loss, factor, log_link) in losses {
        for (i, &yi) in y.iter().enumerate() {
            let yi = if loss == Loss::Binary { yi % 2.0 } else { yi };
            // Scores off the target by -40 % .. +40 % (log link) or by -45 .. +45.
            let off = (i % 7) as f64 - 3.0;
            let s = if log_link {
                yi.ln() + 0.13 * off
            } else {
                yi + 15.0 * off + 0.5
            };
            let h = 1e-4;
            let f = |s: f64| factor * point_loss(loss, yi, s);
            let d1 = (f(s + h) - f(s - h)) / (2.0 * h);
            let d2 = (f(s + h) - 2.0 * f(s) + f(s - h)) / (h * h);
            let (g, hess) = point_gradient(loss, yi, s);
            let tol = 1e-5 * (1.0 + g.abs());
            assert!(
                (g - d1).abs() <= tol,
                "{loss:?} y {yi} s {s}: grad {g} vs {d1}"
            );
            let expected_h = match loss {
                Loss::L1 | Loss::Quantile { .. } => 1.0,
                Loss::Huber { alpha } if (s - yi).abs() > alpha => 1.0,
                Loss::Poisson { max_delta_step } => d2 * max_delta_step.exp(),
                _ => d2,
            };
            let tol = 1e-3 * (1.0 + hess.abs());
            assert!(
                (hess - expected_h).abs() <= tol,
                "{loss:?} y {yi} s {s}: hess {hess} vs {expected_h}"
            );
        }
    }
}

/// LightGBM's percentile: interpolation between order statistics counted from the top.
#[test]
fn percentile_follows_lightgbm() {
    use super::objective::percentile;
    let v: Vec<f64> = (1..=5).map(f64::from).collect();
    // (1 - 0.5) * 5 = 2.5: halfway between the 2nd and 3rd largest.
    assert_eq!(percentile(v.clone(), 0.5), 3.5);
    // (1 - 0.75) * 5 = 1.25: a quarter of the way from the largest to the 2nd largest.
    assert_eq!(percentile(v.clone(), 0.75), 4.75);
    assert_eq!(percentile(v.clone(), 0.99), 5.0);
    assert_eq!(percentile(v.clone(), 0.0), 1.0);
    assert_eq!(percentile(vec![7.0], 0.3), 7.0);
    let (_, y) = load("bike_sharing_hourly", 1000);
    let mut sorted = y.clone();
    sorted.sort_by(f64::total_cmp);
    let m = percentile(y, 0.5);
    assert!(m >= sorted[499] && m <= sorted[500], "median {m}");
}

#[test]
fn prediction_walks_the_flat_forest_and_matches_the_tree_walk() {
    let (x, y) = load("adult", 3000);
    let y: Vec<f64> = y.iter().map(|&v| f64::from(v > 0.5)).collect();
    let params = GbdtParams {
        n_trees: 10,
        min_data_per_group: 10,
        ..GbdtParams::default()
    };
    let model = fit(&x, &y, Task::Binary, &params).model;
    let flat = model.predict_raw(&x).values;
    assert!(matches!(
        model.checked.0.get(),
        Some(super::Checked::Flat(_))
    ));
    let mut walked = vec![0.0; flat.len()];
    model.predict_by_tree(&x, &mut walked);
    assert!(
        flat.iter()
            .zip(&walked)
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
    // A NaN threshold is left to the tree walk.
    let mut odd = model.clone();
    odd.checked = Default::default();
    let numeric = odd.trees[0].cat_index.iter().position(|&c| c < 0);
    odd.trees[0].threshold[numeric.expect("a numeric split")] = f64::NAN;
    let _ = odd.predict_raw(&x);
    assert!(matches!(odd.checked.0.get(), Some(super::Checked::Trees)));
    // Ranks fit a byte up to 254 distinct thresholds on a feature and 63 named categories.
    let flattens = |trees: &[Tree]| super::flat::Forest::new(trees, &[0.0], x.n_cols).is_some();
    let tree = |feature: u32, threshold: f64, cat: Option<Vec<u32>>| {
        let mut t = Tree::single_leaf(0.0, 1);
        t.split_feature = vec![feature];
        t.threshold = vec![threshold];
        t.default_left = vec![true];
        t.cat_index = vec![if cat.is_some() { 0 } else { -1 }];
        if let Some(words) = cat {
            t.cat_boundaries = vec![0, words.len() as u32];
            t.cat_bitset = words;
        }
        t.left_child = vec![!0];
        t.right_child = vec![!1];
        t.split_gain = vec![1.0];
        t.node_count = vec![2];
        t.leaf_value = vec![-1.0, 1.0];
        t.leaf_count = vec![1, 1];
        t
    };
    let numeric: Vec<Tree> = (0..255).map(|i| tree(0, f64::from(i), None)).collect();
    assert!(flattens(&numeric[..254]));
    assert!(!flattens(&numeric));
    // The same threshold twice, and -0.0 next to 0.0, count once.
    assert!(flattens(
        &[&numeric[..254], &[tree(0, -0.0, None), tree(0, 1.0, None)]].concat()
    ));
    // Up to 254 named categories flatten (one more rank is "any other"); 255 do not.
    let cat = |words: Vec<u32>| tree(1, 0.0, Some(words));
    let codes = |n: usize| {
        let mut words = vec![u32::MAX; n / 32];
        if n % 32 > 0 {
            words.push(u32::MAX >> (32 - n % 32));
        }
        words
    };
    for n in [63, 64, 200, 254] {
        assert!(flattens(&[cat(codes(n))]), "{n} codes");
    }
    assert!(!flattens(&[cat(codes(255))]));
    // The codes of all splits on a feature count.
    assert!(flattens(&[cat(vec![u32::MAX]), cat(vec![0, u32::MAX])]));
    assert!(!flattens(&[
        cat(codes(200)),
        cat(vec![0; 7].into_iter().chain([u32::MAX; 2]).collect())
    ]));
}
