use crate::{Column, Field, FrameError, Schema};

/// A table: named, typed columns of equal length.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    schema: Schema,
    columns: Vec<Column>,
}

impl Frame {
    /// Builds a frame from named columns; nullability is taken from the data.
    pub fn from_columns(columns: Vec<(String, Column)>) -> Result<Frame, FrameError> {
        let n_rows = columns.first().map(|(_, c)| c.len()).unwrap_or(0);
        let mut fields = Vec::with_capacity(columns.len());
        let mut cols = Vec::with_capacity(columns.len());
        for (name, col) in columns {
            if col.len() != n_rows {
                return Err(FrameError::Invalid(format!(
                    "column '{name}' has {} rows, expected {n_rows}",
                    col.len()
                )));
            }
            if fields.iter().any(|f: &Field| f.name == name) {
                return Err(FrameError::Invalid(format!(
                    "duplicate column name '{name}'"
                )));
            }
            fields.push(Field {
                name,
                dtype: col.dtype(),
                nullable: col.null_count() > 0,
            });
            cols.push(col);
        }
        Ok(Frame {
            schema: Schema::new(fields),
            columns: cols,
        })
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    pub fn n_rows(&self) -> usize {
        self.columns.first().map(Column::len).unwrap_or(0)
    }

    pub fn n_cols(&self) -> usize {
        self.columns.len()
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.schema.index_of(name).map(|i| &self.columns[i])
    }

    /// The named column, or an error naming it.
    pub fn require(&self, name: &str) -> Result<&Column, FrameError> {
        self.column(name)
            .ok_or_else(|| FrameError::MissingColumn(name.to_string()))
    }

    /// Rows picked by index, in the given order.
    pub fn take(&self, idx: &[usize]) -> Frame {
        Frame {
            schema: self.schema.clone(),
            columns: self.columns.iter().map(|c| c.take(idx)).collect(),
        }
    }

    /// A copy without the named columns (names not present are ignored).
    pub fn drop_columns(&self, names: &[&str]) -> Frame {
        let keep: Vec<usize> = (0..self.columns.len())
            .filter(|&i| !names.contains(&self.schema.fields[i].name.as_str()))
            .collect();
        Frame {
            schema: Schema::new(
                keep.iter()
                    .map(|&i| self.schema.fields[i].clone())
                    .collect(),
            ),
            columns: keep.iter().map(|&i| self.columns[i].clone()).collect(),
        }
    }
}
