//! Date and datetime columns: expanded into calendar parts (`NAME__year`, ...), each
//! then treated as a numeric series.

use arrow_array::Array;
use capstan_frame::{Column, DataType, FeatureKind};
use serde::{Deserialize, Serialize};

use crate::series::SeriesFit;
use crate::{DatePart, FeatureError, PipelineMode, PipelineSpec};

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Fitted state for one date or datetime column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DateTransform {
    pub column: String,
    /// Parts emitted, in this order (hour and minute only for datetime columns).
    pub parts: Vec<DatePart>,
    /// One imputation/scaling per part; `None` in tree mode (null -> NaN).
    pub linear: Option<Vec<SeriesFit>>,
    /// Emit `NAME__missing` (1 for null) after the parts; linear mode only.
    pub missing_indicator: bool,
}

/// Calendar fields of one value.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Civil {
    year: i64,
    month: i64,
    day: i64,
    day_of_week: i64,
    day_of_year: i64,
    hour: i64,
    minute: i64,
}

impl Civil {
    fn part(&self, p: DatePart) -> f64 {
        (match p {
            DatePart::Year => self.year,
            DatePart::Month => self.month,
            DatePart::Day => self.day,
            DatePart::DayOfWeek => self.day_of_week,
            DatePart::DayOfYear => self.day_of_year,
            DatePart::Hour => self.hour,
            DatePart::Minute => self.minute,
        }) as f64
    }
}

/// Parts that apply to a column of type `dtype`, deduplicated, in spec order.
pub(crate) fn applicable_parts(spec: &PipelineSpec, dtype: DataType) -> Vec<DatePart> {
    let mut parts: Vec<DatePart> = Vec::new();
    for &p in &spec.date_parts {
        let time_part = matches!(p, DatePart::Hour | DatePart::Minute);
        if !parts.contains(&p) && (dtype == DataType::Datetime || !time_part) {
            parts.push(p);
        }
    }
    parts
}

pub(crate) fn part_name(p: DatePart) -> &'static str {
    match p {
        DatePart::Year => "year",
        DatePart::Month => "month",
        DatePart::Day => "day",
        DatePart::DayOfWeek => "day_of_week",
        DatePart::DayOfYear => "day_of_year",
        DatePart::Hour => "hour",
        DatePart::Minute => "minute",
    }
}

impl DateTransform {
    pub(crate) fn fit(
        name: &str,
        col: &Column,
        parts: Vec<DatePart>,
        mode: PipelineMode,
        spec: &PipelineSpec,
    ) -> Result<DateTransform, FeatureError> {
        let mut t = DateTransform {
            column: name.to_string(),
            parts,
            linear: None,
            missing_indicator: false,
        };
        if mode == PipelineMode::Linear {
            let n = col.len();
            let mut values = vec![0.0; n * t.parts.len()];
            t.read_parts(col, 0, n, &mut values);
            let fits = values
                .chunks_exact(n.max(1))
                .zip(&t.parts)
                .map(|(series, &p)| SeriesFit::fit(&t.part_feature(p), series, spec))
                .collect::<Result<Vec<_>, _>>()?;
            t.linear = Some(fits);
            t.missing_indicator = spec.missing_indicator && col.null_count() > 0;
        }
        Ok(t)
    }

    fn part_feature(&self, p: DatePart) -> String {
        format!("{}__{}", self.column, part_name(p))
    }

    /// Fills `out` part-major (`parts.len()` runs of `n` values) for rows `start..start+n`.
    fn read_parts(&self, col: &Column, start: usize, n: usize, out: &mut [f64]) {
        for k in 0..n {
            let civil = civil_at(col, start + k);
            for (j, &p) in self.parts.iter().enumerate() {
                out[j * n + k] = civil.map_or(f64::NAN, |c| c.part(p));
            }
        }
    }

    pub(crate) fn n_features(&self) -> usize {
        self.parts.len() + usize::from(self.missing_indicator)
    }

    pub(crate) fn push_features(&self, names: &mut Vec<String>, kinds: &mut Vec<FeatureKind>) {
        for &p in &self.parts {
            names.push(self.part_feature(p));
        }
        if self.missing_indicator {
            names.push(format!("{}__missing", self.column));
        }
        kinds.resize(names.len(), FeatureKind::Numeric);
    }

    /// Writes rows `start..start + n` into `block` from column `offset`; `scratch` holds
    /// at least `parts.len() * n` values.
    pub(crate) fn write(
        &self,
        col: &Column,
        start: usize,
        block: &mut [f64],
        n_cols: usize,
        offset: usize,
        scratch: &mut [f64],
    ) {
        let n = block.len() / n_cols;
        self.read_parts(col, start, n, scratch);
        for (j, series) in scratch
            .chunks_exact(n.max(1))
            .take(self.parts.len())
            .enumerate()
        {
            let fit = self.linear.as_ref().and_then(|f| f.get(j));
            for (row, &v) in block.chunks_exact_mut(n_cols).zip(series) {
                row[offset + j] = fit.map_or(v, |f| f.apply(v));
            }
        }
        if self.missing_indicator {
            let at = offset + self.parts.len();
            for (k, row) in block.chunks_exact_mut(n_cols).enumerate() {
                row[at] = if col.is_null(start + k) { 1.0 } else { 0.0 };
            }
        }
    }

    pub(crate) fn describe(&self, dtype: &str, impute: &str) -> String {
        let parts: Vec<&str> = self.parts.iter().map(|&p| part_name(p)).collect();
        let mut s = format!("{}: {dtype} -> {}", self.column, parts.join(", "));
        match &self.linear {
            None => s.push_str(", nulls kept as NaN"),
            Some(fits) => {
                let scaled = fits.iter().any(|f| f.scaler.is_some());
                s.push_str(&format!(", nulls -> {impute} per part"));
                if scaled {
                    s.push_str(", scaled");
                }
                if self.missing_indicator {
                    s.push_str(", missing indicator");
                }
            }
        }
        s
    }

    pub(crate) fn validate(&self) -> Result<(), FeatureError> {
        if self.parts.is_empty() {
            return Err(FeatureError::Invalid(format!(
                "column '{}': expected at least one date part",
                self.column
            )));
        }
        match &self.linear {
            Some(fits) if fits.len() != self.parts.len() => Err(FeatureError::Invalid(format!(
                "column '{}': expected {} part statistics, found {}",
                self.column,
                self.parts.len(),
                fits.len()
            ))),
            Some(fits) => fits
                .iter()
                .zip(&self.parts)
                .try_for_each(|(f, &p)| f.validate(&self.part_feature(p))),
            None if self.missing_indicator => Err(FeatureError::Invalid(format!(
                "column '{}': a missing indicator needs the linear-mode state",
                self.column
            ))),
            None => Ok(()),
        }
    }
}

/// Calendar fields at row `i`; `None` for nulls and non-date columns.
fn civil_at(col: &Column, i: usize) -> Option<Civil> {
    match col {
        Column::Date(a) if !a.is_null(i) => Some(civil(i64::from(a.value(i)), 0)),
        Column::Datetime(a) if !a.is_null(i) => {
            let us = a.value(i);
            Some(civil(
                us.div_euclid(MICROS_PER_DAY),
                us.rem_euclid(MICROS_PER_DAY),
            ))
        }
        _ => None,
    }
}

/// Calendar fields of `days` since 1970-01-01 plus `micros` into that day
/// (H. Hinnant's `civil_from_days`, proleptic Gregorian).
fn civil(days: i64, micros: i64) -> Civil {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy_march = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy_march + 2) / 153;
    let day = doy_march - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const BEFORE: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let day_of_year = BEFORE[(month - 1) as usize] + day + i64::from(leap && month > 2);
    Civil {
        year,
        month,
        day,
        // 1970-01-01 was a Thursday (3 with Monday = 0).
        day_of_week: (days + 3).rem_euclid(7),
        day_of_year,
        hour: micros / 3_600_000_000,
        minute: micros / 60_000_000 % 60,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate};

    #[test]
    fn civil_matches_chrono() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
        for days in (-800_000i64..800_000)
            .step_by(37)
            .chain([-1, 0, 59, 60, 365, 11_016])
        {
            let d = epoch + chrono::Duration::days(days);
            let c = civil(days, 0);
            let want = (
                i64::from(d.year()),
                i64::from(d.month()),
                i64::from(d.day()),
                i64::from(d.weekday().num_days_from_monday()),
                i64::from(d.ordinal()),
            );
            assert_eq!(
                (c.year, c.month, c.day, c.day_of_week, c.day_of_year),
                want,
                "days {days}"
            );
        }
    }

    #[test]
    fn time_of_day() {
        // 2001-02-03T04:05:06 is 11_356 days and 14_706 s after the epoch.
        let c = civil(11_356, 14_706_000_000);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute),
            (2001, 2, 3, 4, 5)
        );
        // One microsecond before the epoch: 1969-12-31T23:59.
        let us: i64 = -1;
        let c = civil(us.div_euclid(MICROS_PER_DAY), us.rem_euclid(MICROS_PER_DAY));
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute),
            (1969, 12, 31, 23, 59)
        );
    }
}
