//! `capstan data versions`.

use anyhow::Result;

use crate::store_location::StoreLocation;

#[derive(Debug, clap::Args)]
pub struct VersionsArgs {}

pub fn run(args: &VersionsArgs, store: &StoreLocation) -> Result<()> {
    let _ = (args, store);
    anyhow::bail!("capstan data versions is not built yet")
}
