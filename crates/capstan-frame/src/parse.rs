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
    let text = text.trim_ascii();
    match exact_float(text) {
        Some(x) => Some(x),
        None => std::str::from_utf8(text).ok()?.parse().ok(),
    }
}

/// Powers of ten that a float holds exactly.
const EXACT_POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `[+-]digits[.digits][(e|E)[+-]digits]` whose value is one exact integer (at most 2^53,
/// at most 19 digits) times or divided by an exact power of ten (at most 1e22): one
/// correctly rounded operation, so the same float Rust's parser gives. `None` for other
/// texts (the caller falls back to Rust's parser).
fn exact_float(text: &[u8]) -> Option<f64> {
    let (negative, rest) = match text.first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let mut mantissa: u64 = 0;
    let mut digits = 0;
    let mut i = 0;
    while let Some(d) = rest.get(i).filter(|b| b.is_ascii_digit()) {
        mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
        digits += 1;
        i += 1;
    }
    let mut exponent: i64 = 0;
    if rest.get(i) == Some(&b'.') {
        i += 1;
        while let Some(d) = rest.get(i).filter(|b| b.is_ascii_digit()) {
            mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
            digits += 1;
            exponent -= 1;
            i += 1;
        }
    }
    if digits == 0 || digits > 19 {
        return None;
    }
    if matches!(rest.get(i), Some(b'e' | b'E')) {
        i += 1;
        let negative_exp = match rest.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        let mut e: i64 = 0;
        while let Some(d) = rest.get(i).filter(|b| b.is_ascii_digit()) {
            e = e * 10 + i64::from(d - b'0');
            i += 1;
            if i - start > 4 {
                return None;
            }
        }
        if i == start {
            return None;
        }
        exponent += if negative_exp { -e } else { e };
    }
    if i != rest.len() || mantissa > 1 << 53 {
        return None;
    }
    let power = *EXACT_POWERS_OF_TEN.get(usize::try_from(exponent.unsigned_abs()).ok()?)?;
    let value = mantissa as f64;
    let value = if exponent < 0 {
        value / power
    } else {
        value * power
    };
    Some(if negative { -value } else { value })
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

/// A date (days since 1970-01-01) as the datetime of its midnight, as
/// [`parse_datetime`] reads a bare date.
pub(crate) fn date_micros(days: i32) -> i64 {
    i64::from(days) * MICROS_PER_DAY
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
    fn exact_floats_equal_rust_parsing() {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let pieces = ["", "-", "+", "0", "00", ".", "e", "E-", "e+", "5", "-0"];
        for _ in 0..200_000 {
            let mut text = String::new();
            for _ in 0..next(6) {
                if next(3) == 0 {
                    text.push_str(pieces[next(pieces.len() as u64) as usize]);
                } else {
                    for _ in 0..next(12) {
                        text.push(char::from(b'0' + next(10) as u8));
                    }
                }
            }
            let ours = parse_float(text.as_bytes()).map(f64::to_bits);
            let rust = text.trim().parse::<f64>().ok().map(f64::to_bits);
            assert_eq!(ours, rust, "{text:?}");
        }
        for text in [
            "9007199254740993",
            "0.1",
            "-0.0",
            "1e22",
            "1e23",
            "123456789e-22",
            ".5",
            "5.",
        ] {
            let rust = text.parse::<f64>().ok().map(f64::to_bits);
            assert_eq!(
                parse_float(text.as_bytes()).map(f64::to_bits),
                rust,
                "{text}"
            );
        }
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
