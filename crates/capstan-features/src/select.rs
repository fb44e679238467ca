//! Choosing the input columns of the pipeline from the training frame.

use capstan_frame::Frame;

use crate::{FeatureError, PipelineSpec};

/// Indices (frame order) of the input columns: `spec.include` when set, else every
/// column; minus `exclude` (the target) and `spec.drop`.
pub(crate) fn input_columns(
    spec: &PipelineSpec,
    frame: &Frame,
    exclude: &[&str],
) -> Result<Vec<usize>, FeatureError> {
    let schema = frame.schema();
    let unknown = |setting: &str, column: &str| FeatureError::UnknownColumn {
        setting: setting.to_string(),
        column: column.to_string(),
        found: column_list(frame),
    };
    for name in &spec.drop {
        if schema.index_of(name).is_none() {
            return Err(unknown("drop", name));
        }
    }
    if let Some(include) = &spec.include {
        for (k, name) in include.iter().enumerate() {
            if schema.index_of(name).is_none() {
                return Err(unknown("include", name));
            }
            if include[..k].contains(name) {
                return Err(FeatureError::Invalid(format!(
                    "include: column '{name}' is listed twice"
                )));
            }
            if exclude.contains(&name.as_str()) {
                return Err(FeatureError::Invalid(format!(
                    "include: column '{name}' is the target and cannot be an input"
                )));
            }
            if spec.drop.contains(name) {
                return Err(FeatureError::Invalid(format!(
                    "column '{name}' is in both include and drop"
                )));
            }
        }
    }
    let used: Vec<usize> = schema
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            let name = f.name.as_str();
            let wanted = spec
                .include
                .as_ref()
                .is_none_or(|inc| inc.iter().any(|s| s == name));
            wanted && !exclude.contains(&name) && !spec.drop.iter().any(|s| s == name)
        })
        .map(|(i, _)| i)
        .collect();
    Ok(used)
}

/// The frame's column names for error messages, shortened past 12.
pub(crate) fn column_list(frame: &Frame) -> String {
    let names: Vec<&str> = frame.schema().names().collect();
    if names.len() <= 12 {
        names.join(", ")
    } else {
        format!("{}, ... ({} columns)", names[..12].join(", "), names.len())
    }
}
