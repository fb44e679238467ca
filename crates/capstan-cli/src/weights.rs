//! The weight column: one numeric weight per row, for training and weighted metrics.

use anyhow::Result;
use capstan_frame::{DataType, Frame};

use crate::exit::input_error;

/// The weights of every row of `frame`: numbers, finite, >= 0, none missing and not all
/// zero. `input_rows[i]` is the input row (0-based, header excluded) of frame row `i`;
/// errors name the source, the column and the first bad row as the file's line (the header
/// is line 1), as other row errors do.
pub fn read(frame: &Frame, name: &str, input_rows: &[usize], source: &str) -> Result<Vec<f64>> {
    let col = frame.column(name).ok_or_else(|| {
        let names: Vec<&str> = frame.schema().names().collect();
        input_error(format!(
            "{source}: weight column '{name}' not found; columns are: {}",
            names.join(", ")
        ))
    })?;
    if !matches!(col.dtype(), DataType::Integer | DataType::Float) {
        return Err(input_error(format!(
            "{source}: weight column '{name}' is {} but weights must be numbers",
            col.dtype()
        )));
    }
    let mut out = Vec::with_capacity(frame.n_rows());
    for i in 0..frame.n_rows() {
        let bad = |what: String| {
            let row = input_rows.get(i).copied().unwrap_or(i) + 2;
            input_error(format!(
                "{source}: row {row}, column '{name}': {what}; weights must be finite numbers >= 0"
            ))
        };
        let w = col
            .f64_at(i)
            .ok_or_else(|| bad("missing weight".to_string()))?;
        if !(w.is_finite() && w >= 0.0) {
            return Err(bad(format!("weight {w}")));
        }
        out.push(w);
    }
    if !out.iter().any(|&w| w > 0.0) {
        return Err(input_error(format!(
            "{source}: weight column '{name}' is zero in every row; at least one row needs a \
             positive weight"
        )));
    }
    Ok(out)
}

/// The values of `w` at `rows`, when there are weights.
pub fn take(w: Option<&[f64]>, rows: &[usize]) -> Option<Vec<f64>> {
    w.map(|w| rows.iter().map(|&i| w[i]).collect())
}
