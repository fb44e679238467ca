//! `capstan keys`: API keys for `capstan serve`. Only a key's hash is stored; its secret is
//! printed once, at creation.

use anyhow::Result;
use capstan_store::Role;
use serde_json::json;

use crate::store_location::StoreLocation;
use crate::table;

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Create a key and print its secret (shown this once only)
    Create {
        /// A name to tell keys apart: 1 to 64 of A-Z a-z 0-9 _ . -
        name: String,
        /// predict: inference and model metadata; read: also the registry, log and metrics;
        /// admin: everything, including registry changes
        #[arg(long, value_enum)]
        role: RoleArg,
        #[arg(long)]
        json: bool,
    },
    /// Keys, newest first, with their role and whether they are revoked (never the secret)
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key: requests that present it are refused from now on
    Revoke { name: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RoleArg {
    Predict,
    Read,
    Admin,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Role {
        match role {
            RoleArg::Predict => Role::Predict,
            RoleArg::Read => Role::Read,
            RoleArg::Admin => Role::Admin,
        }
    }
}

pub fn run(cmd: &KeysCommand, location: &StoreLocation) -> Result<()> {
    match cmd {
        KeysCommand::Create { name, role, json } => {
            let store = location.open()?;
            let (key, secret) = store.create_api_key(name, (*role).into())?;
            if *json {
                let out = json!({"name": key.name, "role": key.role, "secret": secret});
                crate::outln!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                crate::outln!("created api key '{}' (role {})", key.name, key.role.name());
                crate::outln!("{secret}");
            }
            eprintln!(
                "note: copy the secret now; it is stored only as a hash and cannot be shown again"
            );
        }
        KeysCommand::List { json } => {
            let keys = location.open_existing()?.list_api_keys()?;
            if *json {
                crate::outln!("{}", serde_json::to_string_pretty(&keys)?);
            } else {
                let rows: Vec<Vec<String>> = keys
                    .iter()
                    .map(|k| {
                        vec![
                            k.name.clone(),
                            k.role.name().to_string(),
                            format!("{}...", k.prefix),
                            k.created_at.clone(),
                            k.revoked_at
                                .as_ref()
                                .map_or("active".to_string(), |at| format!("revoked {at}")),
                        ]
                    })
                    .collect();
                crate::output::out(&table::render(
                    &["name", "role", "secret", "created", "status"],
                    &rows,
                ));
            }
        }
        KeysCommand::Revoke { name } => {
            location.open_existing()?.revoke_api_key(name)?;
            crate::outln!("revoked api key '{name}'");
        }
    }
    Ok(())
}
