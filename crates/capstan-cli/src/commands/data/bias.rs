//! `capstan data bias`.

use anyhow::Result;

use crate::store_location::StoreLocation;

#[derive(Debug, clap::Args)]
pub struct BiasArgs {}

pub fn run(args: &BiasArgs, store: &StoreLocation) -> Result<()> {
    let _ = (args, store);
    anyhow::bail!("capstan data bias is not built yet")
}
