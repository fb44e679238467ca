//! Property tests for splits over many seeds (no proptest dependency).

use std::collections::BTreeMap;

use capstan_eval::rng::Rng;
use capstan_eval::{Split, holdout, kfold, time_ordered_holdout, time_series_folds};

fn is_sorted_strict(xs: &[usize]) -> bool {
    xs.windows(2).all(|w| w[0] < w[1])
}

/// Disjoint, sorted, and together exactly `0..n_rows`.
fn assert_partition(split: &Split, n_rows: usize) {
    assert!(is_sorted_strict(&split.train) && is_sorted_strict(&split.test));
    let mut all: Vec<usize> = split.train.iter().chain(&split.test).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..n_rows).collect::<Vec<_>>());
}

/// Skewed labels with some singleton classes; labels are sparse (not 0..c).
fn random_labels(rng: &mut Rng, n: usize) -> Vec<usize> {
    let n_classes = 1 + rng.below(6) as usize;
    (0..n)
        .map(|_| {
            let u = rng.next_f64();
            if u > 0.995 {
                1000 + rng.below(5) as usize
            } else {
                10 * ((n_classes as f64 * u * u) as usize)
            }
        })
        .collect()
}

fn class_sizes(labels: &[usize], rows: &[usize]) -> BTreeMap<usize, usize> {
    let mut sizes = BTreeMap::new();
    for &r in rows {
        *sizes.entry(labels[r]).or_insert(0) += 1;
    }
    sizes
}

fn expected_test(n: usize, fraction: f64) -> usize {
    ((n as f64 * fraction).round() as usize).clamp(1, n - 1)
}

#[test]
fn holdout_properties() {
    for seed in 0..300u64 {
        let mut rng = Rng::new(seed);
        let n = 2 + rng.below(400) as usize;
        let fraction = 0.02 + 0.96 * rng.next_f64();
        let split = holdout(n, fraction, seed, None).expect("valid");
        assert_partition(&split, n);
        assert_eq!(split.test.len(), expected_test(n, fraction));
        assert_eq!(holdout(n, fraction, seed, None), Ok(split.clone()));

        let labels = random_labels(&mut rng, n);
        let split = holdout(n, fraction, seed, Some(&labels)).expect("valid");
        assert_partition(&split, n);
        assert_eq!(holdout(n, fraction, seed, Some(&labels)), Ok(split.clone()));
        let all = class_sizes(&labels, &(0..n).collect::<Vec<_>>());
        let test = class_sizes(&labels, &split.test);
        let train = class_sizes(&labels, &split.train);
        let reachable: usize = all
            .values()
            .map(|&s| ((s as f64 * fraction).ceil() as usize).min((s - 1).max(1)))
            .sum();
        let n_test = expected_test(n, fraction);
        assert_eq!(split.test.len(), n_test.min(reachable), "seed {seed}");
        for (class, &size) in &all {
            let in_test = test.get(class).copied().unwrap_or(0);
            let target = size as f64 * fraction;
            assert!(
                (in_test as f64 - target).abs() < 1.0,
                "seed {seed}: class {class} has {in_test} test rows, target {target}"
            );
            if size >= 2 {
                assert!(
                    train.get(class).copied().unwrap_or(0) >= 1,
                    "seed {seed}: {class}"
                );
            }
        }
    }
}

#[test]
fn holdout_seed_changes_the_split() {
    let a = holdout(1000, 0.2, 1, None).expect("valid");
    let b = holdout(1000, 0.2, 2, None).expect("valid");
    assert_ne!(a, b);
    // Pinned: the same seed gives this split on every platform.
    let pinned = holdout(10, 0.3, 42, None).expect("valid");
    assert_eq!(pinned.test, vec![1, 4, 9]);
    // Every label distinct: singletons may be tested, the split still has both parts.
    let distinct: Vec<usize> = (0..10).collect();
    let split = holdout(10, 0.3, 7, Some(&distinct)).expect("valid");
    assert_eq!((split.train.len(), split.test.len()), (7, 3));
}

#[test]
fn kfold_properties() {
    for seed in 0..200u64 {
        let mut rng = Rng::new(10_000 + seed);
        let n = 2 + rng.below(300) as usize;
        let k = 2 + rng.below((n - 1).min(9) as u64) as usize;
        let labels = random_labels(&mut rng, n);
        let largest = class_sizes(&labels, &(0..n).collect::<Vec<_>>())
            .into_values()
            .max()
            .unwrap_or(0);
        for shuffle in [false, true] {
            for stratify in [None, Some(&labels[..])] {
                if stratify.is_some() && largest < k {
                    assert!(kfold(n, k, seed, shuffle, stratify).is_err());
                    continue;
                }
                let folds = kfold(n, k, seed, shuffle, stratify).expect("valid");
                assert_eq!(folds.len(), k);
                assert_eq!(kfold(n, k, seed, shuffle, stratify), Ok(folds.clone()));
                let mut tested = vec![0usize; n];
                for f in &folds {
                    assert_partition(f, n);
                    f.test.iter().for_each(|&r| tested[r] += 1);
                }
                assert!(tested.iter().all(|&t| t == 1), "each row tested once");
                let sizes: Vec<usize> = folds.iter().map(|f| f.test.len()).collect();
                let (lo, hi) = (sizes.iter().min(), sizes.iter().max());
                assert!(hi.zip(lo).is_some_and(|(h, l)| h - l <= 1), "{sizes:?}");
                if stratify.is_some() {
                    let all = class_sizes(&labels, &(0..n).collect::<Vec<_>>());
                    for f in &folds {
                        let test = class_sizes(&labels, &f.test);
                        for (class, &size) in &all {
                            let c = test.get(class).copied().unwrap_or(0);
                            assert!(c == size / k || c == size.div_ceil(k), "seed {seed}");
                        }
                    }
                }
            }
        }
    }
    let a = kfold(100, 5, 1, true, None).expect("valid");
    assert_ne!(a, kfold(100, 5, 2, true, None).expect("valid"));
    assert_ne!(a, kfold(100, 5, 1, false, None).expect("valid"));
}

#[test]
fn time_ordered_holdout_properties() {
    for seed in 0..100u64 {
        let mut rng = Rng::new(20_000 + seed);
        let n = 2 + rng.below(200) as usize;
        let fraction = 0.05 + 0.9 * rng.next_f64();
        let mut order: Vec<usize> = (0..n).collect();
        rng.shuffle(&mut order);
        let split = time_ordered_holdout(&order, fraction).expect("valid");
        assert_partition(&split, n);
        let n_test = expected_test(n, fraction);
        let mut last = order[n - n_test..].to_vec();
        last.sort_unstable();
        assert_eq!(split.test, last);
    }
    // Rows left out of `order` are in neither part.
    let split = time_ordered_holdout(&[5, 3, 9, 1], 0.5).expect("valid");
    assert_eq!(split.train, vec![3, 5]);
    assert_eq!(split.test, vec![1, 9]);
}

#[test]
fn time_series_folds_expand() {
    for n in 3..60 {
        for k in 2..n.min(8) {
            let folds = time_series_folds(n, k).expect("valid");
            assert_eq!(folds.len(), k);
            let size = n / (k + 1);
            for (i, f) in folds.iter().enumerate() {
                assert_eq!(f.test.len(), size);
                assert_eq!(f.train, (0..f.test[0]).collect::<Vec<_>>());
                if i > 0 {
                    assert_eq!(f.train.len(), folds[i - 1].train.len() + size);
                }
            }
            assert_eq!(folds[k - 1].test.last(), Some(&(n - 1)));
        }
    }
}
