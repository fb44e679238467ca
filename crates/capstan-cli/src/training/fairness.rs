//! Sensitive columns in training: the bias check before the split, fairness metrics of the
//! test predictions after it.

use std::collections::BTreeMap;

use anyhow::Result;
use capstan_eval::FairnessMetrics;
use capstan_frame::Frame;
use capstan_learn::{Predictions, Task};
use capstan_quality::bias::{BiasReport, TargetKind, bias_report};

use crate::config::TrainConfig;
use crate::evaluation;

/// The bias report of the labelled rows; its findings become warnings. `None` without
/// sensitive columns. Errors name a missing column.
pub(super) fn bias_check(
    cfg: &TrainConfig,
    frame: &Frame,
    target: &str,
    task: Task,
    source: &str,
    warnings: &mut Vec<String>,
) -> Result<Option<BiasReport>> {
    if cfg.sensitive.is_empty() {
        return Ok(None);
    }
    let kind = match task {
        Task::Regression => TargetKind::Regression,
        _ => TargetKind::Classification,
    };
    let report = bias_report(frame, target, &cfg.sensitive, Some(kind))
        .map_err(|e| crate::commands::data::bias::quality_error(source, e))?;
    warnings.extend(report.findings.iter().map(|f| format!("bias check: {f}")));
    Ok(Some(report))
}

/// Fairness metrics on the test split for binary tasks; other tasks get a note instead.
pub(super) fn test_fairness(
    cfg: &TrainConfig,
    task: Task,
    test_frame: &Frame,
    y_test: &[f64],
    p_test: &Predictions,
    source: &str,
    warnings: &mut Vec<String>,
) -> Result<BTreeMap<String, FairnessMetrics>> {
    if cfg.sensitive.is_empty() || y_test.is_empty() {
        return Ok(BTreeMap::new());
    }
    if task != Task::Binary {
        warnings.push(format!(
            "fairness metrics need a binary target; skipped for this {} task (the bias \
             check still ran)",
            task.name()
        ));
        return Ok(BTreeMap::new());
    }
    evaluation::fairness(
        test_frame,
        &cfg.sensitive,
        y_test,
        p_test,
        cfg.threshold,
        source,
    )
}
