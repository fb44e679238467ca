//! Parquet reader (via `parquet::arrow`), with lossless casts to a forced schema.

use std::fs::File;
use std::path::Path;

use arrow_array::{Array, ArrayRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::arrow_convert::column_from_arrow;
use crate::cast::cast_lossless;
use crate::{Frame, FrameError, ReadOptions};

const BATCH_ROWS: usize = 64 * 1024;

pub(crate) fn read_parquet(path: &Path, opts: &ReadOptions) -> Result<Frame, FrameError> {
    let file = File::open(path).map_err(|e| FrameError::io(path, e))?;
    let bad =
        |e: &dyn std::fmt::Display| FrameError::format(path, format!("cannot read parquet: {e}"));
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| bad(&e))?;
    let schema = builder.schema().clone();
    let reader = builder
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| bad(&e))?;
    let mut parts: Vec<Vec<ArrayRef>> = vec![Vec::new(); schema.fields().len()];
    for batch in reader {
        let batch = batch.map_err(|e| bad(&e))?;
        for (part, array) in parts.iter_mut().zip(batch.columns()) {
            part.push(array.clone());
        }
    }
    let mut columns = Vec::with_capacity(parts.len());
    for (field, part) in schema.fields().iter().zip(parts) {
        let name = field.name();
        let column_error =
            |why: String| FrameError::format(path, format!("column '{name}': {why}"));
        let array = match part.len() {
            0 => arrow_array::new_empty_array(field.data_type()),
            1 => part[0].clone(),
            _ => {
                let refs: Vec<&dyn Array> = part.iter().map(|a| a.as_ref()).collect();
                arrow_select::concat::concat(&refs).map_err(|e| column_error(e.to_string()))?
            }
        };
        let mut column = column_from_arrow(array.as_ref()).map_err(column_error)?;
        if let Some(dtype) = opts.forced_type(name) {
            column = cast_lossless(column, dtype).map_err(column_error)?;
        }
        columns.push((name.clone(), column));
    }
    Frame::from_columns(columns).map_err(|e| FrameError::format(path, e.to_string()))
}
