//! `capstan data diff`.

use anyhow::Result;

use crate::store_location::StoreLocation;

#[derive(Debug, clap::Args)]
pub struct DiffArgs {}

pub fn run(args: &DiffArgs, store: &StoreLocation) -> Result<()> {
    let _ = (args, store);
    anyhow::bail!("capstan data diff is not built yet")
}
