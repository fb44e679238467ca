//! Untyped cells gathered by the text readers before types are settled.

use arrow_buffer::{BooleanBufferBuilder, NullBuffer};

/// The cells of one column as text, packed in one buffer (no allocation per cell).
#[derive(Debug)]
pub(crate) struct RawColumn {
    pub name: String,
    /// Cell texts back to back; a null cell adds no bytes.
    pub data: Vec<u8>,
    /// Arrow-style offsets: cell `i` is `data[offsets[i]..offsets[i + 1]]`.
    pub offsets: Vec<i32>,
    valid: BooleanBufferBuilder,
}

/// The column's text buffer passed Arrow's 2 GiB limit for one string array.
#[derive(Debug)]
pub(crate) struct TooLarge;

impl TooLarge {
    pub fn error(path: &std::path::Path, column: &str) -> crate::FrameError {
        crate::FrameError::format(
            path,
            format!("column '{column}': more than 2 GiB of text (the limit for one string column)"),
        )
    }
}

impl RawColumn {
    pub fn new(name: String) -> RawColumn {
        RawColumn {
            name,
            data: Vec::new(),
            offsets: vec![0],
            valid: BooleanBufferBuilder::new(0),
        }
    }

    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn push(&mut self, cell: &[u8]) -> Result<(), TooLarge> {
        self.data.extend_from_slice(cell);
        self.end_cell(true)
    }

    pub fn push_null(&mut self) -> Result<(), TooLarge> {
        self.end_cell(false)
    }

    fn end_cell(&mut self, valid: bool) -> Result<(), TooLarge> {
        let end = i32::try_from(self.data.len()).map_err(|_| TooLarge)?;
        self.offsets.push(end);
        self.valid.append(valid);
        Ok(())
    }

    pub fn cell(&self, i: usize) -> &[u8] {
        // Offsets are non-negative and increasing by construction.
        &self.data[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// The validity bitmap; `None` when no cell is null.
    pub fn take_nulls(&mut self) -> Option<NullBuffer> {
        let nulls = NullBuffer::new(self.valid.finish());
        (nulls.null_count() > 0).then_some(nulls)
    }
}

/// All columns of a text file, plus where each row starts in the file.
#[derive(Debug)]
pub(crate) struct RawTable {
    pub columns: Vec<RawColumn>,
    /// 1-based line number in the file of each row.
    pub lines: Vec<u64>,
}

/// Which cell texts mean null.
pub(crate) struct NullMatcher {
    values: Vec<Vec<u8>>,
    only_empty: bool,
}

impl NullMatcher {
    pub fn new(values: &[String]) -> NullMatcher {
        NullMatcher {
            values: values.iter().map(|v| v.as_bytes().to_vec()).collect(),
            only_empty: values.len() == 1 && values[0].is_empty(),
        }
    }

    pub fn matches(&self, cell: &[u8]) -> bool {
        if self.only_empty {
            cell.is_empty()
        } else {
            self.values.iter().any(|v| v == cell)
        }
    }
}
