//! `capstan runs`: list, show and compare tracked runs.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use capstan_store::Run;

use crate::store_location::StoreLocation;
use crate::table;

#[derive(Debug, clap::Subcommand)]
pub enum RunsCommand {
    /// Runs, newest first
    List {
        #[arg(long)]
        limit: Option<usize>,
        #[arg(long)]
        json: bool,
    },
    /// One run: params, metrics per split and fold, lineage, artifacts
    Show {
        /// Run id or unique prefix
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Metrics of several runs side by side
    Compare {
        /// Two or more run ids or unique prefixes
        #[arg(required = true, num_args = 2..)]
        ids: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: &RunsCommand, store: &StoreLocation) -> Result<()> {
    let store = store.open_existing()?;
    match cmd {
        RunsCommand::List { limit, json } => {
            let runs = store.list_runs(*limit)?;
            if *json {
                crate::outln!("{}", serde_json::to_string_pretty(&runs)?);
            } else {
                let rows: Vec<Vec<String>> = runs
                    .iter()
                    .map(|r| {
                        vec![
                            r.id.clone(),
                            r.created_at.clone(),
                            r.name.clone().unwrap_or_default(),
                            r.task.clone(),
                            r.model_kind.clone(),
                            r.dataset_sha256.chars().take(12).collect(),
                            headline_metric(&r.task, &r.metrics),
                        ]
                    })
                    .collect();
                crate::output::out(&table::render(
                    &[
                        "id",
                        "created",
                        "name",
                        "task",
                        "model",
                        "dataset",
                        "test metric",
                    ],
                    &rows,
                ));
            }
        }
        RunsCommand::Show { id, json } => {
            let run = store.get_run(id)?;
            if *json {
                crate::outln!("{}", serde_json::to_string_pretty(&run)?);
            } else {
                print_run(&run)?;
            }
        }
        RunsCommand::Compare { ids, json } => {
            let runs: Vec<Run> = ids
                .iter()
                .map(|id| store.get_run(id))
                .collect::<Result<_, _>>()?;
            if *json {
                crate::outln!("{}", serde_json::to_string_pretty(&runs)?);
            } else {
                crate::output::out(&compare_table(&runs));
            }
        }
    }
    Ok(())
}

/// The task's primary metric on the test split (or the CV mean), e.g. "roc_auc 0.8384".
fn headline_metric(task: &str, metrics: &BTreeMap<String, BTreeMap<String, f64>>) -> String {
    let name = capstan_eval::primary_metric(task);
    ["test", "cv_mean"]
        .iter()
        .find_map(|split| metrics.get(*split)?.get(name))
        .map(|v| format!("{name} {}", table::metric(*v)))
        .unwrap_or_default()
}

fn print_run(run: &Run) -> Result<()> {
    crate::outln!(
        "run {}{}",
        run.id,
        run.name
            .as_ref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default()
    );
    crate::outln!("created   {}", run.created_at);
    crate::outln!("task      {}", run.task);
    crate::outln!("model     {}", run.model_kind);
    crate::outln!("dataset   {}", run.dataset_sha256);
    for (k, v) in &run.tags {
        crate::outln!("tag       {k} = {v}");
    }
    for a in &run.artifacts {
        crate::outln!(
            "artifact  {} sha256:{} ({} bytes)",
            a.0,
            a.1.sha256,
            a.1.size
        );
    }
    let rows: Vec<Vec<String>> = run
        .metrics
        .iter()
        .map(|m| {
            vec![
                m.split.clone(),
                m.fold.map(|f| f.to_string()).unwrap_or_default(),
                m.name.clone(),
                table::metric(m.value),
            ]
        })
        .collect();
    crate::output::out(&table::render(&["split", "fold", "metric", "value"], &rows));
    crate::outln!("params");
    crate::outln!("{}", serde_json::to_string_pretty(&run.params)?);
    Ok(())
}

/// One row per (split, metric) of the non-fold metrics, one column per run.
fn compare_table(runs: &[Run]) -> String {
    let keys: BTreeSet<(String, String)> = runs
        .iter()
        .flat_map(|r| {
            r.metrics
                .iter()
                .filter(|m| m.fold.is_none())
                .map(|m| (m.split.clone(), m.name.clone()))
        })
        .collect();
    let mut header = vec!["split", "metric"];
    header.extend(runs.iter().map(|r| r.id.as_str()));
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|(split, name)| {
            let mut row = vec![split.clone(), name.clone()];
            row.extend(runs.iter().map(|r| {
                r.metrics
                    .iter()
                    .find(|m| m.fold.is_none() && &m.split == split && &m.name == name)
                    .map(|m| table::metric(m.value))
                    .unwrap_or_else(|| "-".into())
            }));
            row
        })
        .collect();
    table::render(&header, &rows)
}
