//! `capstan data suggest`: a starting rules file that the profiled data passes.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::outln;
use crate::source::SourceArgs;
use crate::store_location::StoreLocation;

#[derive(Debug, clap::Args)]
pub struct SuggestArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Where to write the rules (TOML, written atomically) [default: stdout]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub fn run(args: &SuggestArgs, _store: &StoreLocation) -> Result<()> {
    let (source, frame) = args.source.read()?;
    let text = capstan_quality::rules::suggest(&frame, &source.describe())?;
    match &args.out {
        None => crate::output::out(&text),
        Some(path) => {
            capstan_io::write_atomic(path, |w| w.write_all(text.as_bytes()), |e| e)
                .with_context(|| format!("cannot write {}", path.display()))?;
            outln!(
                "wrote rules for {} columns to {}",
                frame.n_cols(),
                path.display()
            );
        }
    }
    Ok(())
}
