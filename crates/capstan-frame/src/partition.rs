//! Hive-style partition directories (`key=value/`): their keys, values and column types.

use std::path::Path;

use crate::parse::{parse_date, parse_float, parse_int};
use crate::{Cell, Column, DataType, Field, FrameBuilder, FrameError, Schema};

/// The value Hive and Spark write for a null partition value.
pub(crate) const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// One `key=value` directory on a file's path; `value` is percent-decoded, `None` for null.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PartitionValue {
    pub key: String,
    pub value: Option<String>,
    /// The directory name as written, for messages.
    pub dir_name: String,
}

/// The `key=value` directories between `root` and `file`, outermost first.
pub(crate) fn partition_values(
    root: &Path,
    file: &Path,
) -> Result<Vec<PartitionValue>, FrameError> {
    let relative = file.strip_prefix(root).unwrap_or(file);
    let mut out: Vec<PartitionValue> = Vec::new();
    let dirs = relative.parent().into_iter().flat_map(Path::components);
    for component in dirs {
        let name = component.as_os_str().to_string_lossy();
        let Some((key, value)) = name.split_once('=') else {
            continue;
        };
        let key = percent_decode(key);
        if key.is_empty() {
            return Err(FrameError::format(
                file,
                format!("partition directory '{name}' has an empty key"),
            ));
        }
        if let Some(first) = out.iter().find(|p| p.key == key) {
            return Err(FrameError::format(
                file,
                format!(
                    "partition key '{key}' appears twice on the path ('{}' and '{name}')",
                    first.dir_name
                ),
            ));
        }
        let value = percent_decode(value);
        out.push(PartitionValue {
            key,
            value: (value != NULL_PARTITION).then_some(value),
            dir_name: name.into_owned(),
        });
    }
    Ok(out)
}

/// `%XX` escapes (as Hive writes `/`, `:`, `=`, ...) to their bytes; other text unchanged.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The type of a partition column: `forced` if given, else the first of integer, float,
/// date that every non-null value parses as, else string.
pub(crate) fn partition_type(values: &[Option<&str>], forced: Option<DataType>) -> DataType {
    if let Some(dtype) = forced {
        return dtype;
    }
    let all = |parse: fn(&[u8]) -> bool| {
        let mut present = values.iter().flatten().peekable();
        present.peek().is_some() && present.all(|v| parse(v.as_bytes()))
    };
    if all(|v| parse_int(v).is_some()) {
        DataType::Integer
    } else if all(|v| parse_float(v).is_some()) {
        DataType::Float
    } else if all(|v| parse_date(v).is_some()) {
        DataType::Date
    } else {
        DataType::String
    }
}

/// A partition column: each file's value repeated for its rows.
/// `parts` are (the file, its value, its number of rows), in row order.
pub(crate) fn partition_column(
    key: &str,
    dtype: DataType,
    parts: &[(&Path, &PartitionValue, usize)],
) -> Result<Column, FrameError> {
    let schema = Schema::new(vec![Field {
        name: key.to_string(),
        dtype,
        nullable: true,
    }]);
    let n_rows = parts.iter().map(|(_, _, n)| n).sum();
    let mut builder = FrameBuilder::new(&schema, &[], n_rows);
    for (file, part, n) in parts {
        let cell = part.value.as_deref().map_or(Cell::Null, Cell::Text);
        for _ in 0..*n {
            builder.push(0, cell).map_err(|e| {
                FrameError::format(
                    file,
                    format!(
                        "partition directory '{}': expected {} for column '{key}'",
                        part.dir_name, e.expected
                    ),
                )
            })?;
        }
    }
    let frame = builder.finish()?;
    Ok(frame.columns()[0].clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_from_the_path() {
        let root = Path::new("/data");
        let file = Path::new("/data/year=2024/plain/city=New%20York/part-0.parquet");
        let parts = partition_values(root, file).expect("valid path");
        let got: Vec<(&str, Option<&str>)> = parts
            .iter()
            .map(|p| (p.key.as_str(), p.value.as_deref()))
            .collect();
        assert_eq!(got, [("year", Some("2024")), ("city", Some("New York"))]);
        let null = partition_values(root, Path::new("/data/k=__HIVE_DEFAULT_PARTITION__/a.csv"))
            .expect("valid path");
        assert_eq!(null[0].value, None);
        assert!(partition_values(root, Path::new("/data/=1/a.csv")).is_err());
        assert!(partition_values(root, Path::new("/data/k=1/k=2/a.csv")).is_err());
    }

    #[test]
    fn percent_escapes() {
        assert_eq!(percent_decode("a%3Ab%2F"), "a:b/");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }

    #[test]
    fn types_from_all_values() {
        let t = |v: &[Option<&str>]| partition_type(v, None);
        assert_eq!(t(&[Some("1"), None, Some("-3")]), DataType::Integer);
        assert_eq!(t(&[Some("1"), Some("2.5")]), DataType::Float);
        assert_eq!(t(&[Some("2024-01-31"), Some("2023-12-01")]), DataType::Date);
        assert_eq!(t(&[Some("2024-01-31"), Some("x")]), DataType::String);
        assert_eq!(t(&[None]), DataType::String);
        assert_eq!(
            partition_type(&[Some("1")], Some(DataType::String)),
            DataType::String
        );
    }
}
