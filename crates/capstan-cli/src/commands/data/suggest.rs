//! `capstan data suggest`.

use anyhow::Result;

use crate::store_location::StoreLocation;

#[derive(Debug, clap::Args)]
pub struct SuggestArgs {}

pub fn run(args: &SuggestArgs, store: &StoreLocation) -> Result<()> {
    let _ = (args, store);
    anyhow::bail!("capstan data suggest is not built yet")
}
