//! Turning the target column into learner labels, and inferring the task.

use anyhow::Result;
use capstan_frame::{Column, Frame};
use capstan_learn::Task;
use capstan_quality::label::{self, class_labels};

use crate::config::TaskName;
use crate::exit::input_error;

/// The encoded target: labels for the learner and the class names behind them.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub task: Task,
    /// Class index -> label; empty for regression.
    pub classes: Vec<String>,
    /// One value per kept row: the value (regression) or the class index.
    pub y: Vec<f64>,
    /// Rows of the input that have a target (rows with a null target are dropped).
    pub rows: Vec<usize>,
}

/// Checks the target column exists; the error lists the columns and suggests a near name.
pub fn require_column<'a>(frame: &'a Frame, name: &str, source: &str) -> Result<&'a Column> {
    if let Some(col) = frame.column(name) {
        return Ok(col);
    }
    let names: Vec<&str> = frame.schema().names().collect();
    let hint = names
        .iter()
        .filter(|n| n.eq_ignore_ascii_case(name) || edit_distance(n, name) <= 2)
        .map(|n| format!(" (did you mean '{n}'?)"))
        .next()
        .unwrap_or_default();
    Err(input_error(format!(
        "{source}: target column '{name}' not found{hint}; columns are: {}",
        names.join(", ")
    )))
}

/// Encodes the target for training, inferring the task unless `forced`.
pub fn encode(frame: &Frame, name: &str, forced: Option<TaskName>, source: &str) -> Result<Target> {
    let col = require_column(frame, name, source)?;
    let rows: Vec<usize> = (0..col.len()).filter(|&i| !col.is_null(i)).collect();
    if rows.is_empty() {
        return Err(input_error(format!(
            "{source}: target column '{name}' has no values"
        )));
    }
    let task_name = match forced {
        Some(t) => t,
        None => infer_task(col, &rows),
    };
    match task_name {
        TaskName::Regression => {
            if !col.dtype().is_numeric() {
                return Err(input_error(format!(
                    "{source}: target column '{name}' is {} but regression needs a numeric target",
                    col.dtype()
                )));
            }
            let y = rows
                .iter()
                .map(|&i| col.f64_at(i).unwrap_or(f64::NAN))
                .collect();
            Ok(Target {
                name: name.to_string(),
                task: Task::Regression,
                classes: Vec::new(),
                y,
                rows,
            })
        }
        TaskName::Binary | TaskName::Multiclass => {
            let classes = class_labels(col, &rows);
            if classes.len() < 2 {
                return Err(input_error(format!(
                    "{source}: target column '{name}' has a single class ('{}'); classification needs at least 2",
                    classes.first().map(String::as_str).unwrap_or("")
                )));
            }
            if task_name == TaskName::Binary && classes.len() > 2 {
                return Err(input_error(format!(
                    "{source}: --task binary but target column '{name}' has {} classes",
                    classes.len()
                )));
            }
            let task = if classes.len() == 2 {
                Task::Binary
            } else {
                Task::Multiclass {
                    n_classes: classes.len(),
                }
            };
            let y = encode_labels(col, &rows, &classes, name, source)?;
            Ok(Target {
                name: name.to_string(),
                task,
                classes,
                y,
                rows,
            })
        }
    }
}

/// Encodes labels against known classes (from a bundle); unknown labels are an error.
pub fn encode_labels(
    col: &Column,
    rows: &[usize],
    classes: &[String],
    name: &str,
    source: &str,
) -> Result<Vec<f64>> {
    rows.iter()
        .map(|&i| {
            let label = col.display_at(i).unwrap_or_default();
            classes
                .iter()
                .position(|c| *c == label)
                .map(|k| k as f64)
                .ok_or_else(|| {
                    input_error(format!(
                        "{source}: row {}, column '{name}': unknown class '{label}' (the model knows: {})",
                        i + 2,
                        classes.join(", ")
                    ))
                })
        })
        .collect()
}

fn infer_task(col: &Column, rows: &[usize]) -> TaskName {
    if !label::is_classes(col, rows) {
        TaskName::Regression
    } else if class_labels(col, rows).len() <= 2 {
        TaskName::Binary
    } else {
        TaskName::Multiclass
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
