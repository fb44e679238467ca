//! The feature pipeline: a spec is fitted on training data into a [`FittedPipeline`] that
//! turns any frame with the training columns into the same [`Matrix`], everywhere.
//!
//! Feature names: numeric `NAME` (+ `NAME__missing`), one-hot `NAME=value`,
//! `NAME=__rare__`, `NAME=__missing__`, codes `NAME`, dates `NAME__year`, ...

mod categorical;
mod clip;
mod coerce;
mod date;
mod describe;
mod error;
mod impute;
mod numeric;
mod report;
mod scale;
mod select;
mod series;
mod source;
mod spec;
mod stats;

pub use categorical::CategoricalTransform;
pub use clip::ClipBounds;
pub use coerce::MIN_NUMBER_SHARE;
pub use date::DateTransform;
pub use error::FeatureError;
pub use numeric::NumericTransform;
pub use report::{CleaningReport, ClippedColumn, CoercedColumn};
pub use scale::Scaler;
pub use series::SeriesFit;
pub use spec::{
    CategoricalEncoding, CleanSpec, ClipSpec, DatePart, Imputation, PipelineMode, PipelineSpec,
};

use std::collections::HashSet;

use capstan_frame::{Column, DataType, FeatureKind, Field, Frame, Matrix, Schema};
use serde::{Deserialize, Serialize};

/// Rows transformed per block: the block of the output stays in cache while every
/// column writes into it.
const BLOCK_ROWS: usize = 1024;

/// The fitted state of one input column, in input-schema order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "transform", rename_all = "snake_case")]
pub enum ColumnTransform {
    Numeric(NumericTransform),
    Categorical(CategoricalTransform),
    Date(DateTransform),
}

/// Fitted state of every transform; serialized into the model bundle. Deserializing
/// checks the state (see [`FittedPipeline::validate`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PipelineState")]
pub struct FittedPipeline {
    /// The input columns the pipeline reads, with their training types.
    pub input_schema: Schema,
    pub mode: PipelineMode,
    /// The spec it was fitted with (for the record; transform does not read it).
    pub spec: PipelineSpec,
    /// One transform per input column, in the order of `input_schema`.
    pub columns: Vec<ColumnTransform>,
}

/// Unchecked mirror of [`FittedPipeline`] for deserialization.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PipelineState {
    input_schema: Schema,
    mode: PipelineMode,
    spec: PipelineSpec,
    columns: Vec<ColumnTransform>,
}

impl TryFrom<PipelineState> for FittedPipeline {
    type Error = FeatureError;

    fn try_from(s: PipelineState) -> Result<Self, FeatureError> {
        let p = FittedPipeline {
            input_schema: s.input_schema,
            mode: s.mode,
            spec: s.spec,
            columns: s.columns,
        };
        p.validate()?;
        Ok(p)
    }
}

impl FittedPipeline {
    /// Fits on `frame`, ignoring the columns in `exclude` (the target).
    pub fn fit(
        spec: &PipelineSpec,
        mode: PipelineMode,
        frame: &Frame,
        exclude: &[&str],
    ) -> Result<FittedPipeline, FeatureError> {
        Ok(Self::fit_with_report(spec, mode, frame, exclude)?.0)
    }

    /// [`FittedPipeline::fit`], also saying what `spec.clean` changed in the training
    /// values (coerced and clipped columns; `duplicates_dropped` is left at 0).
    pub fn fit_with_report(
        spec: &PipelineSpec,
        mode: PipelineMode,
        frame: &Frame,
        exclude: &[&str],
    ) -> Result<(FittedPipeline, CleaningReport), FeatureError> {
        check_spec(spec)?;
        if frame.n_rows() == 0 {
            return Err(FeatureError::Invalid(
                "cannot fit the feature pipeline: expected training rows, found 0".into(),
            ));
        }
        let mut fields = Vec::new();
        let mut columns = Vec::new();
        let mut report = CleaningReport::default();
        let inputs = select::input_columns(spec, frame, exclude)?;
        let clip = spec.clean.clip.as_ref();
        for i in inputs {
            let field = &frame.schema().fields[i];
            let col = &frame.columns()[i];
            let name = field.name.as_str();
            let coerced = match field.dtype {
                DataType::String if spec.clean.coerce => coerce::detect(name, col),
                _ => None,
            };
            let t = match field.dtype {
                DataType::Integer | DataType::Float | DataType::Boolean => {
                    let clip = clip.filter(|c| clips(c, name, field.dtype));
                    let (t, clipped) = NumericTransform::fit(name, col, mode, spec, false, clip)?;
                    report.clipped.extend(clipped);
                    ColumnTransform::Numeric(t)
                }
                DataType::String if coerced.is_some() => {
                    let clip = clip.filter(|c| clips(c, name, DataType::Float));
                    let (t, clipped) = NumericTransform::fit(name, col, mode, spec, true, clip)?;
                    report.coerced.extend(coerced);
                    report.clipped.extend(clipped);
                    ColumnTransform::Numeric(t)
                }
                DataType::String => {
                    ColumnTransform::Categorical(CategoricalTransform::fit(name, col, mode, spec)?)
                }
                DataType::Date | DataType::Datetime => {
                    let parts = date::applicable_parts(spec, field.dtype);
                    if parts.is_empty() {
                        continue; // no feature from this column: do not require it
                    }
                    ColumnTransform::Date(DateTransform::fit(name, col, parts, mode, spec)?)
                }
            };
            fields.push(field.clone());
            columns.push(t);
        }
        if columns.is_empty() {
            return Err(FeatureError::Invalid(format!(
                "no input columns left after removing the target, spec.drop and columns \
                 without features (frame columns: {})",
                select::column_list(frame)
            )));
        }
        let p = FittedPipeline {
            input_schema: Schema::new(fields),
            mode,
            spec: spec.clone(),
            columns,
        };
        p.check_feature_names()?;
        p.check_clip_columns(frame)?;
        Ok((p, report))
    }

    /// Transforms rows; fails with an error naming the column when one is missing or has
    /// an incompatible type. Extra columns are ignored.
    pub fn transform(&self, frame: &Frame) -> Result<Matrix, FeatureError> {
        let inputs = self.resolve(frame)?;
        let (feature_names, feature_kinds) = self.features();
        let n_cols = feature_names.len();
        let n_rows = frame.n_rows();
        let widths: Vec<usize> = self.columns.iter().map(width).collect();
        let max_parts = self
            .columns
            .iter()
            .map(|t| match t {
                ColumnTransform::Date(d) => d.parts.len(),
                _ => 1,
            })
            .max()
            .unwrap_or(1);
        let mut scratch = vec![0.0; BLOCK_ROWS * max_parts];
        let mut data = vec![0.0; n_rows * n_cols];
        if n_cols > 0 {
            for (b, block) in data.chunks_mut(BLOCK_ROWS * n_cols).enumerate() {
                let start = b * BLOCK_ROWS;
                let n = block.len() / n_cols;
                let mut offset = 0;
                for ((t, col), w) in self.columns.iter().zip(&inputs).zip(&widths) {
                    match t {
                        ColumnTransform::Numeric(t) => {
                            t.write(col, start, block, n_cols, offset, &mut scratch[..n])
                        }
                        ColumnTransform::Categorical(t) => {
                            t.write(col, start, block, n_cols, offset, self.mode)
                        }
                        ColumnTransform::Date(t) => {
                            let s = &mut scratch[..n * t.parts.len()];
                            t.write(col, start, block, n_cols, offset, s)
                        }
                    }
                    offset += w;
                }
            }
        }
        Ok(Matrix {
            n_rows,
            n_cols,
            data,
            feature_names,
            feature_kinds,
        })
    }

    /// Output column names, in matrix order.
    pub fn feature_names(&self) -> Vec<String> {
        self.features().0
    }

    /// How a learner should treat each output column, in matrix order.
    pub fn feature_kinds(&self) -> Vec<FeatureKind> {
        self.features().1
    }

    /// Number of output columns.
    pub fn n_features(&self) -> usize {
        self.columns.iter().map(width).sum()
    }

    /// One line per input column, for example
    /// `age: numeric (float), nulls -> median 28, scaled (mean 29.36, std 13.01)`.
    pub fn describe(&self) -> Vec<String> {
        let impute = match self.spec.impute {
            Imputation::Median => "median",
            Imputation::Mean => "mean",
            Imputation::Constant => "constant",
        };
        self.columns
            .iter()
            .zip(&self.input_schema.fields)
            .map(|(t, f)| match t {
                ColumnTransform::Numeric(t) => t.describe(f.dtype.name(), impute),
                ColumnTransform::Categorical(t) => t.describe(),
                ColumnTransform::Date(t) => t.describe(f.dtype.name(), impute),
            })
            .collect()
    }

    /// Checks internal consistency: one transform per schema field with a matching type
    /// and mode, finite statistics, sorted dictionaries, unique feature names.
    pub fn validate(&self) -> Result<(), FeatureError> {
        if self.columns.len() != self.input_schema.fields.len() {
            return Err(FeatureError::Invalid(format!(
                "pipeline state: expected one transform per input column ({}), found {}",
                self.input_schema.fields.len(),
                self.columns.len()
            )));
        }
        let linear = self.mode == PipelineMode::Linear;
        for (t, f) in self.columns.iter().zip(&self.input_schema.fields) {
            let (name, fits_type, fits_mode) = match t {
                ColumnTransform::Numeric(t) => {
                    t.validate()?;
                    let fits_type = if t.from_text {
                        f.dtype == DataType::String
                    } else {
                        f.dtype.is_numeric()
                    };
                    (&t.column, fits_type, t.linear.is_some() == linear)
                }
                ColumnTransform::Categorical(t) => {
                    t.validate()?;
                    (&t.column, f.dtype == DataType::String, true)
                }
                ColumnTransform::Date(t) => {
                    t.validate()?;
                    let is_date = matches!(f.dtype, DataType::Date | DataType::Datetime);
                    (&t.column, is_date, t.linear.is_some() == linear)
                }
            };
            if *name != f.name || !fits_type || !fits_mode {
                return Err(FeatureError::Invalid(format!(
                    "pipeline state: transform for column '{name}' does not fit input column \
                     '{}' ({}) in {:?} mode",
                    f.name, f.dtype, self.mode
                )));
            }
        }
        self.check_feature_names()
    }

    fn features(&self) -> (Vec<String>, Vec<FeatureKind>) {
        let mut names = Vec::with_capacity(self.n_features());
        let mut kinds = Vec::with_capacity(names.capacity());
        for t in &self.columns {
            match t {
                ColumnTransform::Numeric(t) => t.push_features(&mut names, &mut kinds),
                ColumnTransform::Categorical(t) => t.push_features(&mut names, &mut kinds),
                ColumnTransform::Date(t) => t.push_features(&mut names, &mut kinds),
            }
        }
        (names, kinds)
    }

    fn check_feature_names(&self) -> Result<(), FeatureError> {
        let names = self.feature_names();
        let mut seen = HashSet::with_capacity(names.len());
        for n in &names {
            if !seen.insert(n.as_str()) {
                return Err(FeatureError::Invalid(format!(
                    "feature name '{n}' would be produced twice; rename the input column \
                     or category that collides"
                )));
            }
        }
        Ok(())
    }

    /// Every column named by `clean.clip.columns` must be an integer, float or coerced input.
    fn check_clip_columns(&self, frame: &Frame) -> Result<(), FeatureError> {
        let Some(names) = self.spec.clean.clip.as_ref().and_then(ClipSpec::columns) else {
            return Ok(());
        };
        for name in names {
            let Some(field) = frame.schema().field(name) else {
                return Err(FeatureError::UnknownColumn {
                    setting: "clean.clip.columns".into(),
                    column: name.clone(),
                    found: select::column_list(frame),
                });
            };
            if self.input_schema.field(name).is_none() {
                return Err(FeatureError::Invalid(format!(
                    "clean.clip.columns names column '{name}', which is not an input of the \
                     pipeline (the target, dropped or not included)"
                )));
            }
            let numeric = self
                .columns
                .iter()
                .any(|t| matches!(t, ColumnTransform::Numeric(t) if t.column == *name));
            if !numeric || field.dtype == DataType::Boolean {
                return Err(FeatureError::Invalid(format!(
                    "clean.clip.columns names column '{name}' ({}): expected an integer, \
                     float or coerced text column",
                    field.dtype
                )));
            }
        }
        Ok(())
    }

    /// The frame's column for each input, type-checked against training. A text column
    /// read as numbers also accepts a numeric column.
    fn resolve<'a>(&self, frame: &'a Frame) -> Result<Vec<&'a Column>, FeatureError> {
        self.input_schema
            .fields
            .iter()
            .zip(&self.columns)
            .map(|(f, t)| {
                let col = frame
                    .column(&f.name)
                    .ok_or_else(|| FeatureError::MissingColumn(f.name.clone()))?;
                let from_text = matches!(t, ColumnTransform::Numeric(t) if t.from_text);
                if !(from_text && col.dtype().is_numeric()) {
                    check_type(f, col.dtype())?;
                }
                Ok(col)
            })
            .collect()
    }
}

/// Output columns of one transform.
fn width(t: &ColumnTransform) -> usize {
    match t {
        ColumnTransform::Numeric(t) => 1 + usize::from(t.missing_indicator),
        ColumnTransform::Categorical(t) => match t.encoding {
            CategoricalEncoding::OneHot | CategoricalEncoding::Auto => {
                t.categories.len() + usize::from(t.rare_slot) + usize::from(t.nulls_seen)
            }
            CategoricalEncoding::Ordinal | CategoricalEncoding::Native => 1,
        },
        ColumnTransform::Date(t) => t.n_features(),
    }
}

/// Numbers accept integer/float/boolean, strings need strings, dates need date/datetime.
fn check_type(field: &Field, found: DataType) -> Result<(), FeatureError> {
    let (ok, expected) = match field.dtype {
        DataType::Integer | DataType::Float | DataType::Boolean => {
            (found.is_numeric(), "a number (integer, float or boolean)")
        }
        DataType::String => (found == DataType::String, "string"),
        DataType::Date | DataType::Datetime => (
            matches!(found, DataType::Date | DataType::Datetime),
            "date or datetime",
        ),
    };
    if ok {
        Ok(())
    } else {
        Err(FeatureError::WrongType {
            column: field.name.clone(),
            expected: expected.to_string(),
            found: found.name().to_string(),
        })
    }
}

/// Settings that would give meaningless or unserializable state.
fn check_spec(spec: &PipelineSpec) -> Result<(), FeatureError> {
    let f = spec.rare_min_fraction;
    if !(0.0..=1.0).contains(&f) {
        return Err(FeatureError::Invalid(format!(
            "rare_min_fraction: expected a number in [0, 1], found {f}"
        )));
    }
    if let Some(clip) = &spec.clean.clip {
        clip::check(clip)?;
    }
    if !spec.impute_value.is_finite() {
        return Err(FeatureError::Invalid(format!(
            "impute_value: expected a finite number, found {}",
            spec.impute_value
        )));
    }
    Ok(())
}

/// Whether `clip` applies to a numeric input: integer and float columns (and coerced text),
/// all of them or those listed. Booleans are never clipped.
fn clips(clip: &ClipSpec, name: &str, dtype: DataType) -> bool {
    matches!(dtype, DataType::Integer | DataType::Float)
        && clip
            .columns()
            .is_none_or(|cols| cols.iter().any(|c| c == name))
}
