//! Parquet writer (via `parquet::arrow`, snappy compressed).

use std::io::Write;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType as ArrowType, Field as ArrowField, Schema as ArrowSchema, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::{DataType, Frame};

/// Writes `frame` as one Parquet file to `out`; the error says why.
pub(crate) fn write_parquet_to<W: Write + Send>(frame: &Frame, out: W) -> Result<(), String> {
    let fields: Vec<ArrowField> = frame
        .schema()
        .fields
        .iter()
        .map(|f| ArrowField::new(&f.name, arrow_type(f.dtype), f.nullable))
        .collect();
    let schema = Arc::new(ArrowSchema::new(fields));
    let arrays = frame.columns().iter().map(|c| c.to_arrow()).collect();
    let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(frame.n_rows()));
    let batch = RecordBatch::try_new_with_options(schema.clone(), arrays, &options)
        .map_err(|e| e.to_string())?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut writer = ArrowWriter::try_new(out, schema, Some(props)).map_err(|e| e.to_string())?;
    writer.write(&batch).map_err(|e| e.to_string())?;
    writer.close().map_err(|e| e.to_string())?;
    Ok(())
}

fn arrow_type(dtype: DataType) -> ArrowType {
    match dtype {
        DataType::Integer => ArrowType::Int64,
        DataType::Float => ArrowType::Float64,
        DataType::Boolean => ArrowType::Boolean,
        DataType::String => ArrowType::Utf8,
        DataType::Date => ArrowType::Date32,
        DataType::Datetime => ArrowType::Timestamp(TimeUnit::Microsecond, None),
    }
}
