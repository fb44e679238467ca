//! `capstan data`: profile, validate, suggest rules, dataset versions and diffs.

use anyhow::Result;

use crate::store_location::StoreLocation;

pub mod bias;
pub mod diff;
pub mod profile;
pub mod suggest;
pub mod validate;
pub mod versions;

#[derive(Debug, clap::Subcommand)]
pub enum DataCommand {
    /// Profile a table: types, missing, distinct, quantiles, histograms, correlations,
    /// target relationship, duplicates, findings; JSON and an HTML report
    Profile(profile::ProfileArgs),
    /// Check a table against a rules file; every failure with counts and example rows
    Validate(validate::ValidateArgs),
    /// Write a starting rules file from a table's profile
    Suggest(suggest::SuggestArgs),
    /// Bias checks: label balance and representation of sensitive groups
    Bias(bias::BiasArgs),
    /// Recorded dataset versions (content hashes)
    Versions(versions::VersionsArgs),
    /// Compare two datasets: schema changes, row counts, statistic shifts
    Diff(diff::DiffArgs),
}

pub fn run(cmd: &DataCommand, store: &StoreLocation) -> Result<()> {
    match cmd {
        DataCommand::Profile(args) => profile::run(args, store),
        DataCommand::Validate(args) => validate::run(args, store),
        DataCommand::Suggest(args) => suggest::run(args, store),
        DataCommand::Bias(args) => bias::run(args, store),
        DataCommand::Versions(args) => versions::run(args, store),
        DataCommand::Diff(args) => diff::run(args, store),
    }
}
