//! A PostgreSQL query's result as a frame (cargo feature `postgres`).
//!
//! Rows are streamed (`query_raw`, binary format) and decoded one at a time into Arrow
//! builders; the result is never held as rows. Types map as:
//!
//! | PostgreSQL | column |
//! |---|---|
//! | `smallint`, `integer`, `bigint` | integer |
//! | `real`, `double precision` | float |
//! | `numeric` | float: the exact decimal value written as text, then parsed (nearest f64) |
//! | `boolean` | boolean |
//! | `text`, `varchar`, `char(n)`, `name` | string |
//! | `date` | date |
//! | `timestamp` | datetime |
//! | `timestamptz` | datetime in UTC |
//!
//! A domain maps as its base type. Any other type is an error naming the column and its
//! type (cast it in SQL). `ReadOptions::schema` converts the mapped columns losslessly, as
//! for Parquet; `null_values` and `delimiter` do not apply (SQL NULLs are nulls).

use std::error::Error as StdError;
use std::time::Duration;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{FromSql, Kind as PgKind, ToSql, Type};
use postgres::{Client, NoTls};

use crate::cast::cast_lossless;
use crate::{Column, Frame, FrameError, ReadOptions};

/// Used when the URL sets no `connect_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_DAYS: i32 = 10_957;
/// Microseconds from 1970-01-01 to 2000-01-01.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// Reads the result of `query` on the database at `url` (`postgres://user@host:port/db`,
/// no TLS). Errors name the URL with its password redacted.
pub fn read_postgres(url: &str, query: &str, opts: &ReadOptions) -> Result<Frame, FrameError> {
    let location = capstan_io::redact_password(url);
    let fail = |message: String| FrameError::Database {
        location: location.clone(),
        message,
    };
    let mut client = connect(url).map_err(&fail)?;
    let statement = client
        .prepare(query)
        .map_err(|e| fail(format!("query failed: {}", describe(&e))))?;
    let kinds: Vec<Kind> = statement
        .columns()
        .iter()
        .map(|c| Kind::of(c.type_()).ok_or_else(|| unsupported(c.name(), c.type_())))
        .collect::<Result<_, _>>()
        .map_err(&fail)?;
    let mut builders: Vec<Builder> = kinds.iter().map(|&k| Builder::new(k)).collect();
    let no_params: [&(dyn ToSql + Sync); 0] = [];
    let mut rows = client
        .query_raw(&statement, no_params)
        .map_err(|e| fail(format!("query failed: {}", describe(&e))))?;
    let mut n_rows = 0usize;
    while let Some(row) = rows
        .next()
        .map_err(|e| fail(format!("reading the result failed: {}", describe(&e))))?
    {
        n_rows += 1;
        for (j, builder) in builders.iter_mut().enumerate() {
            let name = statement.columns()[j].name();
            let value: Option<RawValue<'_>> = row
                .try_get(j)
                .map_err(|e| fail(format!("row {n_rows}, column '{name}': {e}")))?;
            builder
                .push(value.map(|v| v.0))
                .map_err(|why| fail(format!("row {n_rows}, column '{name}': {why}")))?;
        }
    }
    if n_rows == 0 {
        return Err(fail("no data: the query returned no rows".to_string()));
    }
    let mut columns = Vec::with_capacity(builders.len());
    for (column, builder) in statement.columns().iter().zip(builders) {
        let name = column.name();
        let mut data = builder.finish();
        if let Some(dtype) = opts.forced_type(name) {
            data = cast_lossless(data, dtype)
                .map_err(|why| fail(format!("column '{name}': {why}")))?;
        }
        columns.push((name.to_string(), data));
    }
    Frame::from_columns(columns).map_err(|e| fail(e.to_string()))
}

fn connect(url: &str) -> Result<Client, String> {
    let mut config: postgres::Config = url
        .parse()
        .map_err(|e| format!("invalid connection url: {e}"))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("capstan");
    }
    config.notice_callback(|_| {});
    config
        .connect(NoTls)
        .map_err(|e| format!("cannot connect: {}", describe(&e)))
}

/// The server's message (with its detail and hint) when there is one.
fn describe(e: &postgres::Error) -> String {
    let Some(db) = e.as_db_error() else {
        return match e.source() {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        };
    };
    let mut text = db.message().to_string();
    if let Some(detail) = db.detail() {
        text.push_str(&format!(" ({detail})"));
    }
    if let Some(hint) = db.hint() {
        text.push_str(&format!("; hint: {hint}"));
    }
    text
}

fn unsupported(column: &str, ty: &Type) -> String {
    format!(
        "column '{column}' has PostgreSQL type {ty}, which capstan cannot read (supported: \
         smallint, integer, bigint, real, double precision, numeric, boolean, text, varchar, \
         char, name, date, timestamp, timestamptz); cast it in the query, e.g. \
         \"{column}\"::text"
    )
}

/// The bytes of one non-null value in PostgreSQL's binary format.
struct RawValue<'a>(&'a [u8]);

impl<'a> FromSql<'a> for RawValue<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        Ok(RawValue(raw))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// The PostgreSQL types capstan reads, by their binary layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Numeric,
    Bool,
    Text,
    Date,
    /// `timestamp` and `timestamptz` (both microseconds since 2000-01-01, UTC for tz).
    Timestamp,
}

impl Kind {
    fn of(ty: &Type) -> Option<Kind> {
        if let PgKind::Domain(base) = ty.kind() {
            return Kind::of(base);
        }
        Some(match *ty {
            Type::INT2 => Kind::Int2,
            Type::INT4 => Kind::Int4,
            Type::INT8 => Kind::Int8,
            Type::FLOAT4 => Kind::Float4,
            Type::FLOAT8 => Kind::Float8,
            Type::NUMERIC => Kind::Numeric,
            Type::BOOL => Kind::Bool,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => Kind::Text,
            Type::DATE => Kind::Date,
            Type::TIMESTAMP | Type::TIMESTAMPTZ => Kind::Timestamp,
            _ => return None,
        })
    }
}

/// One column's values so far.
enum Builder {
    Integer(Kind, Int64Builder),
    Float(Kind, Float64Builder),
    Boolean(BooleanBuilder),
    String(StringBuilder),
    Date(Date32Builder),
    Datetime(TimestampMicrosecondBuilder),
}

impl Builder {
    fn new(kind: Kind) -> Builder {
        match kind {
            Kind::Int2 | Kind::Int4 | Kind::Int8 => Builder::Integer(kind, Int64Builder::new()),
            Kind::Float4 | Kind::Float8 | Kind::Numeric => {
                Builder::Float(kind, Float64Builder::new())
            }
            Kind::Bool => Builder::Boolean(BooleanBuilder::new()),
            Kind::Text => Builder::String(StringBuilder::new()),
            Kind::Date => Builder::Date(Date32Builder::new()),
            Kind::Timestamp => Builder::Datetime(TimestampMicrosecondBuilder::new()),
        }
    }

    /// Appends one value (`None`: SQL NULL).
    fn push(&mut self, raw: Option<&[u8]>) -> Result<(), String> {
        let Some(raw) = raw else {
            match self {
                Builder::Integer(_, b) => b.append_null(),
                Builder::Float(_, b) => b.append_null(),
                Builder::Boolean(b) => b.append_null(),
                Builder::String(b) => b.append_null(),
                Builder::Date(b) => b.append_null(),
                Builder::Datetime(b) => b.append_null(),
            }
            return Ok(());
        };
        match self {
            Builder::Integer(kind, b) => b.append_value(match kind {
                Kind::Int2 => i64::from(i16::from_be_bytes(fixed(raw)?)),
                Kind::Int4 => i64::from(i32::from_be_bytes(fixed(raw)?)),
                _ => i64::from_be_bytes(fixed(raw)?),
            }),
            Builder::Float(kind, b) => b.append_value(match kind {
                Kind::Float4 => f64::from(f32::from_be_bytes(fixed(raw)?)),
                Kind::Float8 => f64::from_be_bytes(fixed(raw)?),
                _ => numeric_to_f64(raw)?,
            }),
            Builder::Boolean(b) => b.append_value(u8::from_be_bytes(fixed(raw)?) != 0),
            Builder::String(b) => b.append_value(
                std::str::from_utf8(raw).map_err(|_| "the text is not valid utf-8".to_string())?,
            ),
            Builder::Date(b) => {
                let days = i32::from_be_bytes(fixed(raw)?);
                if days == i32::MAX || days == i32::MIN {
                    return Err("an infinite date has no calendar value".to_string());
                }
                b.append_value(
                    days.checked_add(PG_EPOCH_DAYS)
                        .ok_or("the date is out of range")?,
                );
            }
            Builder::Datetime(b) => {
                let micros = i64::from_be_bytes(fixed(raw)?);
                if micros == i64::MAX || micros == i64::MIN {
                    return Err("an infinite timestamp has no calendar value".to_string());
                }
                b.append_value(
                    micros
                        .checked_add(PG_EPOCH_MICROS)
                        .ok_or("the timestamp is out of range")?,
                );
            }
        }
        Ok(())
    }

    fn finish(self) -> Column {
        match self {
            Builder::Integer(_, mut b) => Column::Integer(b.finish()),
            Builder::Float(_, mut b) => Column::Float(b.finish()),
            Builder::Boolean(mut b) => Column::Boolean(b.finish()),
            Builder::String(mut b) => Column::String(b.finish()),
            Builder::Date(mut b) => Column::Date(b.finish()),
            Builder::Datetime(mut b) => Column::Datetime(b.finish()),
        }
    }
}

/// The value's bytes as a fixed-size array (a malformed length is an error, not a panic).
fn fixed<const N: usize>(raw: &[u8]) -> Result<[u8; N], String> {
    raw.try_into()
        .map_err(|_| format!("expected {N} bytes, found {}", raw.len()))
}

/// A binary `numeric` (base-10000 digits with a weight) as the nearest f64, by writing its
/// exact decimal value as text (`<digits>e<exponent>`) and parsing that.
fn numeric_to_f64(raw: &[u8]) -> Result<f64, String> {
    let bad = || "malformed numeric value".to_string();
    let word = |i: usize| -> Result<u16, String> {
        raw.get(2 * i..2 * i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(bad)
    };
    let n_digits = usize::from(word(0)?);
    let weight = i64::from(word(1)? as i16);
    let sign = word(2)?;
    match sign {
        0x0000 | 0x4000 => {}
        0xC000 => return Ok(f64::NAN),
        0xD000 => return Ok(f64::INFINITY),
        0xF000 => return Ok(f64::NEG_INFINITY),
        _ => return Err(bad()),
    }
    if n_digits == 0 {
        return Ok(0.0);
    }
    let mut text = String::with_capacity(4 * n_digits + 8);
    if sign == 0x4000 {
        text.push('-');
    }
    for i in 0..n_digits {
        let digit = word(4 + i)?;
        if digit >= 10_000 {
            return Err(bad());
        }
        text.push_str(&format!("{digit:04}"));
    }
    let exponent = 4 * (weight + 1 - n_digits as i64);
    text.push_str(&format!("e{exponent}"));
    text.parse().map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(n_digits: u16, weight: i16, sign: u16, digits: &[u16]) -> Vec<u8> {
        let mut out = Vec::new();
        for w in [n_digits, weight as u16, sign, 0] {
            out.extend_from_slice(&w.to_be_bytes());
        }
        for d in digits {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out
    }

    #[test]
    fn numeric_values() {
        // 12345.678 = [1, 2345, 6780] with weight 1.
        let v = numeric_to_f64(&numeric(3, 1, 0, &[1, 2345, 6780])).expect("valid");
        assert_eq!(v, 12345.678);
        // -0.0001 = [1] with weight -1.
        let v = numeric_to_f64(&numeric(1, -1, 0x4000, &[1])).expect("valid");
        assert_eq!(v, -0.0001);
        assert_eq!(numeric_to_f64(&numeric(0, 0, 0, &[])), Ok(0.0));
        assert!(
            numeric_to_f64(&numeric(0, 0, 0xC000, &[]))
                .expect("nan")
                .is_nan()
        );
        assert!(numeric_to_f64(&numeric(2, 0, 0, &[1])).is_err());
        assert!(numeric_to_f64(&numeric(1, 0, 0, &[10_000])).is_err());
        assert!(numeric_to_f64(&[0, 1]).is_err());
    }

    #[test]
    fn fixed_width_values_check_their_length() {
        let mut b = Builder::new(Kind::Int4);
        assert!(b.push(Some(&[0, 0, 0, 7])).is_ok());
        assert_eq!(
            b.push(Some(&[0, 7])),
            Err("expected 4 bytes, found 2".to_string())
        );
        let mut d = Builder::new(Kind::Date);
        assert!(d.push(Some(&i32::MAX.to_be_bytes())).is_err());
        assert!(d.push(Some(&0i32.to_be_bytes())).is_ok());
        let Column::Date(days) = d.finish() else {
            panic!("a date column")
        };
        assert_eq!(days.value(0), PG_EPOCH_DAYS);
    }
}
