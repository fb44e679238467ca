//! `capstan data validate`.

use anyhow::Result;

use crate::store_location::StoreLocation;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {}

pub fn run(args: &ValidateArgs, store: &StoreLocation) -> Result<()> {
    let _ = (args, store);
    anyhow::bail!("capstan data validate is not built yet")
}
