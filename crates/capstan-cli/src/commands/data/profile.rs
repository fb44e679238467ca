//! `capstan data profile`.

use anyhow::Result;

use crate::store_location::StoreLocation;

#[derive(Debug, clap::Args)]
pub struct ProfileArgs {}

pub fn run(args: &ProfileArgs, store: &StoreLocation) -> Result<()> {
    let _ = (args, store);
    anyhow::bail!("capstan data profile is not built yet")
}
