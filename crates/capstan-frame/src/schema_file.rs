//! Schemas as JSON files: `{"fields":[{"name":..,"type":..,"nullable":..}]}`.

use std::io::Write;
use std::path::Path;

use capstan_io::write_atomic;

use crate::{FrameError, Schema};

impl Schema {
    /// Reads a schema file. Errors name the file and the JSON problem; an unknown type
    /// lists the allowed ones (integer, float, boolean, string, date, datetime).
    pub fn from_json_file(path: &Path) -> Result<Schema, FrameError> {
        let text = std::fs::read_to_string(path).map_err(|e| FrameError::io(path, e))?;
        let schema: Schema = serde_json::from_str(&text)
            .map_err(|e| FrameError::format(path, format!("invalid schema json: {e}")))?;
        for (i, field) in schema.fields.iter().enumerate() {
            if schema.fields[..i].iter().any(|f| f.name == field.name) {
                return Err(FrameError::format(
                    path,
                    format!("invalid schema: field '{}' is listed twice", field.name),
                ));
            }
        }
        Ok(schema)
    }

    /// The schema as indented JSON.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a schema always serializes to json")
    }

    /// Writes the schema as indented JSON, atomically.
    pub fn write_json(&self, path: &Path) -> Result<(), FrameError> {
        let text = self.to_json_pretty();
        write_atomic(
            path,
            |out| {
                out.write_all(text.as_bytes())
                    .and_then(|()| out.write_all(b"\n"))
                    .map_err(|e| FrameError::io(path, e))
            },
            |e| FrameError::io(path, e),
        )
    }
}
