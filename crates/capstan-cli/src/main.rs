use clap::{Parser, Subcommand};

use capstan_cli::commands::{
    data, evaluate, keys, log, models, predict, runs, schema, serve, train,
};
use capstan_cli::exit;
use capstan_cli::store_location::StoreLocation;

/// Capstan: from a table of business data to a tracked, explained model, in one binary.
///
/// Typical loop:
///   capstan train --data churn.csv --target churn          # prints metrics and a run id
///   capstan runs list                                       # tracked runs
///   capstan predict --model RUN_ID --data new.csv --out scores.csv
///   capstan evaluate --model RUN_ID --data labelled.csv
///
/// Serving loop:
///   capstan models register churn --run RUN_ID --alias champion
///   capstan serve                                           # http://127.0.0.1:8080
///   capstan models register churn --run NEW_RUN_ID --alias challenger
///   capstan models rollout churn --canary 10                # or --shadow
///   capstan models promote churn                            # or: capstan models rollback churn
///   capstan log --model churn                               # what was predicted
///
/// Exit codes: 0 success, 1 unexpected failure, 2 bad command line,
/// 3 bad input (file, column, value, schema or config), 4 model not found or not loadable,
/// 5 the data failed its validation rules.
#[derive(Debug, Parser)]
#[command(name = "capstan", version, verbatim_doc_comment)]
struct Cli {
    /// The store: a directory (SQLite and artifact files) or a postgres:// URL
    #[arg(
        long,
        global = true,
        env = "CAPSTAN_STORE",
        default_value = ".capstan",
        value_name = "DIR|URL"
    )]
    store: StoreLocation,
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
    /// The model registry: versions, aliases, rollout, promotion, rollback
    #[command(subcommand)]
    Models(models::ModelsCommand),
    /// Serve registered models over HTTP
    Serve(serve::ServeArgs),
    /// API keys for the server
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// The prediction log: print or export what the server predicted
    Log(log::LogArgs),
    /// Data quality: profile, validate, suggest rules, dataset versions and diffs
    #[command(subcommand)]
    Data(data::DataCommand),
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
    let store = &cli.store;
    let result = match &cli.command {
        Command::Train(args) => train::run(args, store),
        Command::Predict(args) => predict::run(args, store),
        Command::Evaluate(args) => evaluate::run(args, store),
        Command::Runs(cmd) => runs::run(cmd, store),
        Command::Models(cmd) => models::run(cmd, store),
        Command::Serve(args) => serve::run(args, store),
        Command::Keys(cmd) => keys::run(cmd, store),
        Command::Log(args) => log::run(args, store),
        Command::Data(cmd) => data::run(cmd, store),
        Command::Schema(cmd) => schema::run(cmd),
    };
    if let Err(err) = result {
        eprintln!("error: {}", exit::message(&err));
        std::process::exit(exit::code_for(&err));
    }
    std::process::exit(exit::OK);
}
