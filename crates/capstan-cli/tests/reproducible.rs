//! Train/serve parity and determinism, driven through the training job's library API.

mod common;

use capstan_bundle::Bundle;
use capstan_cli::config::{ModelKind, TrainConfig};
use capstan_cli::training::{self, TrainOutcome};
use capstan_frame::ReadOptions;

fn config(model: ModelKind) -> TrainConfig {
    let mut cfg = TrainConfig {
        data: Some(common::telco()),
        target: Some("churn".into()),
        model,
        ..TrainConfig::default()
    };
    cfg.gbdt.n_trees = 25;
    cfg
}

fn train_with_threads(cfg: &TrainConfig, threads: usize) -> TrainOutcome {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool")
        .install(|| training::train(cfg, &mut |_| {}))
        .expect("training succeeds")
}

fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn reloaded_bundle_reproduces_evaluation_predictions_bit_for_bit() {
    for model in [ModelKind::Gbdt, ModelKind::Linear] {
        let outcome = train_with_threads(&config(model), 2);
        let bytes = outcome.bundle.to_bytes().expect("serialize");
        let dir = common::tempdir(&format!("reload-{}", model.name()));
        let path = dir.join("model.capstan");
        std::fs::write(&path, &bytes).expect("write");
        let reloaded = Bundle::read(&path).expect("reload");

        let opts = ReadOptions {
            schema: Some(reloaded.manifest.input_schema.clone()),
            ..ReadOptions::default()
        };
        let frame = capstan_frame::read(&common::telco(), &opts).expect("read");
        let test = frame.take(&outcome.test_rows);
        let served = reloaded.predict(&test).expect("predict");
        assert_eq!(served.n_rows, outcome.test_rows.len());
        assert_eq!(
            bits(&served.values),
            bits(&outcome.test_predictions.values),
            "{}",
            model.name()
        );
    }
}

#[test]
fn same_data_config_seed_give_same_model_bytes_with_1_and_2_threads() {
    for model in [ModelKind::Gbdt, ModelKind::Linear] {
        let cfg = config(model);
        let one = train_with_threads(&cfg, 1);
        let two = train_with_threads(&cfg, 2);
        assert_eq!(
            one.bundle.model_sha256().expect("hash"),
            two.bundle.model_sha256().expect("hash")
        );
        assert_eq!(one.metrics, two.metrics);
        let mut other_seed = cfg.clone();
        other_seed.seed += 1;
        let three = train_with_threads(&other_seed, 2);
        assert_ne!(
            one.bundle.model_sha256().expect("hash"),
            three.bundle.model_sha256().expect("hash")
        );
    }
}
