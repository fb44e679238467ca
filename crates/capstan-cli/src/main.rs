use std::path::PathBuf;

use clap::{Parser, Subcommand};

use capstan_cli::commands::{evaluate, predict, runs, schema, train};
use capstan_cli::exit;

/// Capstan: from a table of business data to a tracked, explained model, in one binary.
///
/// Typical loop:
///   capstan train --data churn.csv --target churn          # prints metrics and a run id
///   capstan runs list                                       # tracked runs
///   capstan predict --model RUN_ID --data new.csv --out scores.csv
///   capstan evaluate --model RUN_ID --data labelled.csv
///
/// Exit codes: 0 success, 1 unexpected failure, 2 bad command line,
/// 3 bad input (file, column, value, schema or config), 4 model not found or not loadable.
#[derive(Debug, Parser)]
#[command(name = "capstan", version, verbatim_doc_comment)]
struct Cli {
    /// The tracking store directory (runs database and artifacts)
    #[arg(
        long,
        global = true,
        env = "CAPSTAN_STORE",
        default_value = ".capstan",
        value_name = "DIR"
    )]
    store: PathBuf,
    /// Worker threads for training and prediction [default: all cores]
    #[arg(long, global = true, env = "CAPSTAN_THREADS")]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train a model, print its metrics and record the run
    Train(Box<train::TrainArgs>),
    /// Write predictions for a file of rows
    Predict(predict::PredictArgs),
    /// Compute metrics of a model on labelled rows
    Evaluate(evaluate::EvaluateArgs),
    /// Tracked runs
    #[command(subcommand)]
    Runs(runs::RunsCommand),
    /// Data schemas
    #[command(subcommand)]
    Schema(schema::SchemaCommand),
}

fn main() {
    let cli = Cli::parse();
    if let Some(n) = cli.threads {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
        {
            eprintln!("error: cannot start {n} threads: {e}");
            std::process::exit(exit::FAILURE);
        }
    }
    let result = match &cli.command {
        Command::Train(args) => train::run(args, &cli.store),
        Command::Predict(args) => predict::run(args, &cli.store),
        Command::Evaluate(args) => evaluate::run(args, &cli.store),
        Command::Runs(cmd) => runs::run(cmd, &cli.store),
        Command::Schema(cmd) => schema::run(cmd),
    };
    if let Err(err) = result {
        eprintln!("error: {}", exit::message(&err));
        std::process::exit(exit::code_for(&err));
    }
    std::process::exit(exit::OK);
}
