//! Parsers for one text cell (bytes, surrounding ASCII whitespace ignored).

use chrono::{Datelike, NaiveDate};

/// Days from 0001-01-01 (chrono's "common era" day 1) to 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// A decimal integer with an optional sign, e.g. `-42`; `None` on overflow.
pub(crate) fn parse_int(text: &[u8]) -> Option<i64> {
    let text = text.trim_ascii();
    let (negative, digits) = match text.first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    let mut magnitude: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        magnitude = magnitude
            .checked_mul(10)?
            .checked_add(u64::from(b - b'0'))?;
    }
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// A float as Rust reads it (`1.5`, `-2e10`, `.5`, `inf`, `NaN`); integers too.
pub(crate) fn parse_float(text: &[u8]) -> Option<f64> {
    std::str::from_utf8(text.trim_ascii()).ok()?.parse().ok()
}

/// `true` or `false`, any case.
pub(crate) fn parse_bool(text: &[u8]) -> Option<bool> {
    let text = text.trim_ascii();
    if text.eq_ignore_ascii_case(b"true") {
        Some(true)
    } else if text.eq_ignore_ascii_case(b"false") {
        Some(false)
    } else {
        None
    }
}

/// `YYYY-MM-DD` as days since 1970-01-01.
pub(crate) fn parse_date(text: &[u8]) -> Option<i32> {
    date_days(text.trim_ascii())
}

/// `YYYY-MM-DD[(T| )HH:MM:SS[.fff]]` as microseconds since 1970-01-01T00:00:00.
/// A bare date is midnight; fractions beyond microseconds are truncated.
pub(crate) fn parse_datetime(text: &[u8]) -> Option<i64> {
    let text = text.trim_ascii();
    let days = i64::from(date_days(text.get(..10)?)?);
    let day_micros = days.checked_mul(MICROS_PER_DAY)?;
    let rest = &text[10..];
    if rest.is_empty() {
        return Some(day_micros);
    }
    if !(rest[0] == b'T' || rest[0] == b' ') || rest.len() < 9 {
        return None;
    }
    let (hms, frac) = rest[1..].split_at(8);
    if hms[2] != b':' || hms[5] != b':' {
        return None;
    }
    let hour = two_digits(&hms[0..2])?;
    let minute = two_digits(&hms[3..5])?;
    let second = two_digits(&hms[6..8])?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let micros = fraction_micros(frac)?;
    let secs = i64::from(hour * 3600 + minute * 60 + second);
    day_micros.checked_add(secs * 1_000_000 + micros)
}

/// `.ddd` (1 to 9 digits) as microseconds, or nothing as 0.
fn fraction_micros(frac: &[u8]) -> Option<i64> {
    if frac.is_empty() {
        return Some(0);
    }
    let digits = frac.strip_prefix(b".")?;
    if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut micros = 0i64;
    for i in 0..6 {
        let d = digits.get(i).map_or(0, |b| i64::from(b - b'0'));
        micros = micros * 10 + d;
    }
    Some(micros)
}

fn date_days(text: &[u8]) -> Option<i32> {
    if text.len() != 10 || text[4] != b'-' || text[7] != b'-' {
        return None;
    }
    let year = two_digits(&text[0..2])? * 100 + two_digits(&text[2..4])?;
    let month = two_digits(&text[5..7])?;
    let day = two_digits(&text[8..10])?;
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    Some(date.num_days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE)
}

fn two_digits(text: &[u8]) -> Option<u32> {
    match text {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
            Some(u32::from(a - b'0') * 10 + u32::from(b - b'0'))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        assert_eq!(parse_int(b"42"), Some(42));
        assert_eq!(parse_int(b" -7 "), Some(-7));
        assert_eq!(parse_int(b"+3"), Some(3));
        assert_eq!(parse_int(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int(b"9223372036854775808"), None);
        for bad in [&b""[..], b"-", b"1.0", b"1e3", b"0x10", b"1 2"] {
            assert_eq!(parse_int(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn floats_and_bools() {
        assert_eq!(parse_float(b"1.5"), Some(1.5));
        assert_eq!(parse_float(b"-2e3"), Some(-2000.0));
        assert_eq!(parse_float(b"abc"), None);
        assert_eq!(parse_bool(b"TRUE"), Some(true));
        assert_eq!(parse_bool(b"False"), Some(false));
        assert_eq!(parse_bool(b"1"), None);
    }

    #[test]
    fn dates_and_datetimes() {
        assert_eq!(parse_date(b"1970-01-01"), Some(0));
        assert_eq!(parse_date(b"1969-12-31"), Some(-1));
        assert_eq!(parse_date(b"2024-02-29"), Some(19782));
        assert_eq!(parse_date(b"2023-02-29"), None);
        assert_eq!(parse_date(b"1949-01"), None);
        assert_eq!(parse_datetime(b"1970-01-01T00:00:01"), Some(1_000_000));
        assert_eq!(
            parse_datetime(b"1970-01-02 00:00:00.5"),
            Some(86_400_500_000)
        );
        assert_eq!(
            parse_datetime(b"1970-01-01T00:00:00.123456789"),
            Some(123_456)
        );
        assert_eq!(parse_datetime(b"1970-01-01"), Some(0));
        for bad in [
            &b"1970-01-01T24:00:00"[..],
            b"1970-01-01T00:00",
            b"1970-01-01T00:00:00.",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad:?}");
        }
    }
}
