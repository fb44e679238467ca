//! Same data, params and seed give a bit-identical model whatever the thread count, and the
//! model survives a JSON round trip exactly.

mod support;

use capstan_learn::Model;
use capstan_learn::gbdt::{self, GbdtModel, GbdtParams, SampleStrategy};
use support::*;

fn fit_with_threads(threads: usize, d: &Dataset, rows: &[usize], params: &GbdtParams) -> GbdtModel {
    let (x, y) = subset(d, rows);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool");
    pool.install(|| gbdt::fit((&x, &y), None, d.task, params, &mut |_| {}).expect("fit"))
}

/// The model's JSON fitted on 1, 2 and 3 threads.
fn json_for_threads(d: &Dataset, rows: &[usize], params: &GbdtParams) -> Vec<String> {
    [1, 2, 3]
        .iter()
        .map(|&t| serde_json::to_string(&fit_with_threads(t, d, rows, params)).expect("json"))
        .collect()
}

/// The model is bit-identical on 1, 2 and 3 threads, and another seed changes it (`what`:
/// what the seed drives).
fn assert_same_for_threads_and_seeded(
    d: &Dataset,
    rows: &[usize],
    params: &GbdtParams,
    other_seed: u64,
    what: &str,
) {
    let json = json_for_threads(d, rows, params);
    assert_eq!(json[0], json[1], "1 vs 2 threads");
    assert_eq!(json[0], json[2], "1 vs 3 threads");
    let other = GbdtParams {
        seed: other_seed,
        ..params.clone()
    };
    let different = serde_json::to_string(&fit_with_threads(2, d, rows, &other)).expect("json");
    assert_ne!(json[0], different, "the seed should change {what}");
}

#[test]
fn model_is_bit_identical_for_1_2_and_3_threads() {
    let d = load("adult");
    let (train, _) = split(d.x.n_rows, 0.6, 1);
    let params = GbdtParams {
        n_trees: 20,
        num_leaves: 63,
        feature_fraction: 0.8,
        bagging_fraction: 0.7,
        bagging_freq: 1,
        seed: 5,
        ..GbdtParams::default()
    };
    assert_same_for_threads_and_seeded(&d, &train, &params, 6, "bagging and feature sampling");
}

#[test]
fn model_round_trips_through_json_exactly() {
    let d = load("california_housing");
    let (train, test) = split(d.x.n_rows, 0.5, 3);
    let model = fit_with_threads(
        2,
        &d,
        &train,
        &GbdtParams {
            n_trees: 30,
            ..GbdtParams::default()
        },
    );
    let text = serde_json::to_string(&Model::Gbdt(model.clone())).expect("json");
    let back: Model = serde_json::from_str(&text).expect("parse");
    assert_eq!(back, Model::Gbdt(model.clone()));
    let (xte, _) = subset(&d, &test);
    assert_eq!(back.predict(&xte), model.predict(&xte));
    assert!(model.validate().is_ok());
}

#[test]
fn large_leaves_split_across_threads_give_the_same_model() {
    // 245k rows: the first partitions and histograms run in parallel row blocks.
    let d = load("skin_segmentation");
    let rows: Vec<usize> = (0..d.x.n_rows).collect();
    let params = GbdtParams {
        n_trees: 8,
        num_leaves: 127,
        min_data_in_leaf: 5,
        seed: 3,
        ..GbdtParams::default()
    };
    let json = json_for_threads(&d, &rows, &params);
    assert_eq!(json[0], json[1], "1 vs 2 threads");
    assert_eq!(json[0], json[2], "1 vs 3 threads");
}

#[test]
fn per_node_sampling_is_bit_identical_for_1_2_and_3_threads() {
    // Children are searched on two threads at once; each node draws from its own stream.
    let d = load("adult");
    let (train, _) = split(d.x.n_rows, 0.6, 1);
    let params = GbdtParams {
        n_trees: 20,
        num_leaves: 63,
        feature_fraction: 0.8,
        feature_fraction_bynode: 0.5,
        seed: 5,
        ..GbdtParams::default()
    };
    assert_same_for_threads_and_seeded(&d, &train, &params, 6, "the node samples");
}

#[test]
fn goss_is_bit_identical_for_1_2_and_3_threads() {
    // multiclass: GOSS ranks rows by |g * h| summed over the classes
    let d = load("letter");
    let (train, _) = split(d.x.n_rows, 0.5, 2);
    let params = GbdtParams {
        n_trees: 6,
        learning_rate: 0.5,
        data_sample_strategy: SampleStrategy::Goss,
        feature_fraction_bynode: 0.7,
        seed: 4,
        ..GbdtParams::default()
    };
    assert_same_for_threads_and_seeded(&d, &train, &params, 9, "the GOSS draws");
}
