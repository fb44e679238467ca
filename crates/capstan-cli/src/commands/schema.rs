//! `capstan schema infer`: write the inferred schema so it can be edited and passed back.

use std::path::PathBuf;

use anyhow::Result;
use capstan_frame::ReadOptions;

#[derive(Debug, clap::Subcommand)]
pub enum SchemaCommand {
    /// Infer column types and nullability from a data file
    Infer {
        /// .csv, .tsv, .parquet or .jsonl
        file: PathBuf,
        /// Write the schema here (JSON) instead of printing it
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

pub fn run(cmd: &SchemaCommand) -> Result<()> {
    match cmd {
        SchemaCommand::Infer { file, out } => {
            let frame = capstan_frame::read(file, &ReadOptions::default())?;
            match out {
                Some(path) => {
                    frame.schema().write_json(path)?;
                    eprintln!(
                        "schema of {} columns written to {}",
                        frame.n_cols(),
                        path.display()
                    );
                }
                None => crate::outln!("{}", frame.schema().to_json_pretty()),
            }
            Ok(())
        }
    }
}
