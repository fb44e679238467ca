//! Manual timing of a large transform (ignored: tests never assert wall-clock time).
//! Run: cargo test -p capstan-features --test scale_timing -- --ignored --nocapture

mod common;

use std::time::Instant;

use capstan_features::{PipelineMode, PipelineSpec};
use common::*;

#[test]
#[ignore]
fn transform_1m_rows_28_numeric_columns() {
    let n = 1_000_000;
    let cols: Vec<(String, capstan_frame::Column)> = (0..28)
        .map(|j| {
            let v: Vec<Option<f64>> = (0..n)
                .map(|i| {
                    if (i + j) % 101 == 0 {
                        None
                    } else {
                        Some(((i * 31 + j * 7) % 1000) as f64 * 0.01)
                    }
                })
                .collect();
            (format!("f{j}"), floats(&v))
        })
        .collect();
    let f = capstan_frame::Frame::from_columns(cols).expect("frame");
    for mode in [PipelineMode::Linear, PipelineMode::Tree] {
        let t0 = Instant::now();
        let p = fit(&PipelineSpec::default(), mode, &f, &[]);
        let fit_s = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let m = p.transform(&f).expect("ok");
        eprintln!(
            "{mode:?}: fit {fit_s:.3}s, transform {:.3}s ({} x {})",
            t1.elapsed().as_secs_f64(),
            m.n_rows,
            m.n_cols
        );
    }
}
