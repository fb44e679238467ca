//! `capstan models`: the model registry. Register versions from runs or bundle files, point
//! aliases (`champion`, `challenger`) at them, roll the challenger out in shadow or canary,
//! promote, roll back, and read the audit trail.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use capstan_bundle::{Bundle, BundleError};
use capstan_store::{
    AuditEntry, Change, RegisteredModel, RegistryUpdate, Rollout, RolloutMode, Store, StoreError,
    check_alias_name, check_model_name,
};
use serde_json::json;

use crate::exit::{ModelNotFound, input_error};
use crate::store_location::StoreLocation;
use crate::table;

/// The alias requests are answered by.
pub const CHAMPION: &str = "champion";
/// The alias a rollout sends traffic to.
pub const CHALLENGER: &str = "challenger";
/// Audit entries `models show` prints.
const SHOW_AUDIT: usize = 10;
/// How far back `models rollback` looks for the champion's previous version.

#[derive(Debug, clap::Subcommand)]
pub enum ModelsCommand {
    /// Register a bundle (from a run or a file) as the next version of a model
    Register(RegisterArgs),
    /// Registered models: latest version, aliases, rollout
    List {
        #[arg(long)]
        json: bool,
    },
    /// One model: versions, aliases, rollout and recent changes
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Point an alias at a version, or remove it with --remove
    Alias {
        name: String,
        /// e.g. champion, challenger
        alias: String,
        #[arg(required_unless_present = "remove", conflicts_with = "remove")]
        version: Option<u32>,
        /// Remove the alias
        #[arg(long)]
        remove: bool,
        /// Why, for the audit trail
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Send the challenger traffic: a shadow copy of every request, or a canary share
    Rollout(RolloutArgs),
    /// Make the challenger the champion (challenger alias removed, rollout off)
    Promote {
        name: String,
        /// Why, for the audit trail
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Stop an active rollout; otherwise move the champion back to its previous version
    Rollback {
        name: String,
        /// Move the champion to this version instead of its previous one
        #[arg(long, value_name = "VERSION")]
        to: Option<u32>,
        /// Why, for the audit trail
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The registry's audit trail, newest first
    Audit {
        /// Only this model's changes
        name: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["run", "bundle"])))]
pub struct RegisterArgs {
    /// Model name: 1 to 64 of A-Z a-z 0-9 _ . -, starting with a letter or digit
    pub name: String,
    /// Register the model artifact of this run (id or unique prefix)
    #[arg(long, value_name = "RUN_ID")]
    pub run: Option<String>,
    /// Register this bundle file
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    #[arg(long, default_value = "")]
    pub description: String,
    /// Point this alias at the new version (repeatable), e.g. --alias champion
    #[arg(long = "alias", value_name = "ALIAS")]
    pub aliases: Vec<String>,
    /// Why, for the audit trail
    #[arg(long)]
    pub reason: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["shadow", "canary", "off"])))]
pub struct RolloutArgs {
    pub name: String,
    /// Copy every request to the challenger; its answers are logged, never returned
    #[arg(long)]
    pub shadow: bool,
    /// Answer this share of requests (0 to 100, sticky per request key) with the challenger
    #[arg(long, value_name = "PERCENT")]
    pub canary: Option<f64>,
    /// Send the challenger no traffic
    #[arg(long)]
    pub off: bool,
    /// Roll back automatically when the challenger's error rate exceeds this (0 to 1)
    #[arg(long, value_name = "X", conflicts_with = "off")]
    pub max_error_rate: Option<f64>,
    /// Roll back automatically when the challenger's p99 latency exceeds this
    #[arg(long, value_name = "MS", conflicts_with = "off")]
    pub max_p99_ms: Option<f64>,
    /// Requests the challenger must have served before a threshold is judged [default: 50]
    #[arg(long, value_name = "N", conflicts_with = "off")]
    pub min_requests: Option<u32>,
    /// Why, for the audit trail
    #[arg(long)]
    pub reason: Option<String>,
    #[arg(long)]
    pub json: bool,
}

pub fn run(cmd: &ModelsCommand, location: &StoreLocation) -> Result<()> {
    match cmd {
        ModelsCommand::Register(args) => register(args, location),
        ModelsCommand::List { json } => list(&location.open_existing()?, *json),
        ModelsCommand::Show { name, json } => show(&open_for(location, name)?, name, *json),
        ModelsCommand::Alias {
            name,
            alias,
            version,
            remove: _,
            reason,
            json,
        } => {
            let store = open_for(location, name)?;
            let entries = store.set_alias(name, alias, *version, &change(reason.as_deref()))?;
            if *json {
                crate::outln!("{}", serde_json::to_string_pretty(&entries)?);
            } else {
                print_changes(name, &entries);
            }
            Ok(())
        }
        ModelsCommand::Rollout(args) => rollout(args, location),
        ModelsCommand::Promote { name, reason, json } => {
            promote(&open_for(location, name)?, name, reason.as_deref(), *json)
        }
        ModelsCommand::Rollback {
            name,
            to,
            reason,
            json,
        } => rollback(
            &open_for(location, name)?,
            name,
            *to,
            reason.as_deref(),
            *json,
        ),
        ModelsCommand::Audit { name, limit, json } => {
            let store = location.open_existing()?;
            if let Some(name) = name {
                store.get_model(name)?;
            }
            let entries = store.audit_log(name.as_deref(), *limit)?;
            if *json {
                crate::outln!("{}", serde_json::to_string_pretty(&entries)?);
            } else {
                crate::output::out(&audit_table(&entries));
            }
            Ok(())
        }
    }
}

/// Opens an existing store for a command on model `name` (a missing store is exit 4).
fn open_for(location: &StoreLocation, name: &str) -> Result<Store> {
    location.open_for_model(&format!("no registered model named '{name}'"))
}

/// Who is making a change: `$USER@hostname`, `$USER`, or `cli`.
pub fn actor() -> String {
    let Some(user) = std::env::var("USER").ok().filter(|u| !u.trim().is_empty()) else {
        return "cli".to_string();
    };
    match hostname() {
        Some(host) => format!("{user}@{host}"),
        None => user,
    }
}

fn hostname() -> Option<String> {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}

fn change(reason: Option<&str>) -> Change {
    Change {
        actor: actor(),
        reason: reason.unwrap_or_default().to_string(),
    }
}

fn register(args: &RegisterArgs, location: &StoreLocation) -> Result<()> {
    // Every name is checked before anything is written.
    check_model_name(&args.name)?;
    let mut aliases: Vec<&str> = Vec::new();
    for alias in &args.aliases {
        check_alias_name(alias)?;
        if !aliases.contains(&alias.as_str()) {
            aliases.push(alias);
        }
    }
    let (store, sha256, run_id, default_reason) = if let Some(run) = &args.run {
        let store = location.open_for_model(&format!("no run matches '{run}'"))?;
        let run = store.get_run(run)?;
        let artifact = run.artifact("model").ok_or_else(|| {
            anyhow::Error::new(ModelNotFound(format!(
                "run {} has no model artifact to register",
                run.id
            )))
        })?;
        let bytes = store.read_artifact(&artifact.sha256)?;
        Bundle::from_bytes(&bytes).with_context(|| format!("model of run {}", run.id))?;
        let reason = format!("from run {}", run.id);
        (store, artifact.sha256.clone(), Some(run.id), reason)
    } else {
        let path = args
            .bundle
            .as_ref()
            .ok_or_else(|| input_error("pass --run RUN_ID or --bundle FILE"))?;
        let bytes = read_bundle_file(path)?;
        let store = location.open()?;
        let artifact = store.put_artifact(&bytes)?;
        let file = path.file_name().unwrap_or(path.as_os_str());
        let reason = format!("from bundle {}", file.to_string_lossy());
        (store, artifact.sha256, None, reason)
    };
    let change = change(Some(args.reason.as_deref().unwrap_or(&default_reason)));
    let version = store.register_version(
        &args.name,
        &sha256,
        run_id.as_deref(),
        &args.description,
        &change,
    )?;
    let mut entries = Vec::new();
    for alias in &aliases {
        entries.extend(
            store
                .set_alias(&args.name, alias, Some(version.version), &change)
                .with_context(|| {
                    format!(
                        "version {} of '{}' is registered, but setting alias '{alias}' failed",
                        version.version, args.name
                    )
                })?,
        );
    }
    if args.json {
        let mut out = serde_json::to_value(&version)?;
        out["aliases"] = json!(aliases);
        crate::outln!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        crate::outln!(
            "registered {} version {} (bundle sha256:{}{})",
            version.model,
            version.version,
            short_sha(&version.bundle_sha256),
            version
                .run_id
                .as_ref()
                .map(|r| format!(", run {r}"))
                .unwrap_or_default()
        );
        print_changes(&args.name, &entries);
    }
    Ok(())
}

/// The bytes of a bundle file, refused unless they load as a bundle.
fn read_bundle_file(path: &Path) -> Result<Vec<u8>> {
    Bundle::read(path)?;
    let bytes = std::fs::read(path).map_err(|source| BundleError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    // The file could have changed since it was checked; check the bytes that get stored.
    Bundle::from_bytes(&bytes).with_context(|| format!("bundle file {}", path.display()))?;
    Ok(bytes)
}

fn list(store: &Store, json: bool) -> Result<()> {
    let models = store.list_models()?;
    if json {
        crate::outln!("{}", serde_json::to_string_pretty(&models)?);
        return Ok(());
    }
    let rows: Vec<Vec<String>> = models
        .iter()
        .map(|m| {
            vec![
                m.name.clone(),
                m.versions
                    .last()
                    .map(|v| v.version.to_string())
                    .unwrap_or_default(),
                alias_list(m),
                rollout_text(&m.rollout),
                m.created_at.clone(),
            ]
        })
        .collect();
    crate::output::out(&table::render(
        &["name", "latest", "aliases", "rollout", "created"],
        &rows,
    ));
    Ok(())
}

fn show(store: &Store, name: &str, json: bool) -> Result<()> {
    let model = store.get_model(name)?;
    let audit = store.audit_log(Some(name), SHOW_AUDIT)?;
    if json {
        let mut out = serde_json::to_value(&model)?;
        out["audit"] = serde_json::to_value(&audit)?;
        crate::outln!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    crate::outln!("model     {}", model.name);
    crate::outln!("created   {}", model.created_at);
    crate::outln!("aliases   {}", or_dash(alias_list(&model)));
    crate::outln!("rollout   {}", rollout_text(&model.rollout));
    crate::outln!();
    let rows: Vec<Vec<String>> = model
        .versions
        .iter()
        .map(|v| {
            let aliases: Vec<&str> = model
                .aliases
                .iter()
                .filter(|(_, version)| **version == v.version)
                .map(|(alias, _)| alias.as_str())
                .collect();
            vec![
                v.version.to_string(),
                short_sha(&v.bundle_sha256).to_string(),
                v.run_id.clone().unwrap_or_else(|| "-".into()),
                v.created_at.clone(),
                v.created_by.clone(),
                aliases.join(" "),
                v.description.clone(),
            ]
        })
        .collect();
    crate::output::out(&table::render(
        &[
            "version",
            "bundle",
            "run",
            "created",
            "by",
            "aliases",
            "description",
        ],
        &rows,
    ));
    crate::outln!();
    crate::outln!("recent changes");
    crate::output::out(&audit_table(&audit));
    Ok(())
}

fn rollout(args: &RolloutArgs, location: &StoreLocation) -> Result<()> {
    let store = open_for(location, &args.name)?;
    let model = store.get_model(&args.name)?;
    let rollout = if args.off {
        Rollout {
            mode: RolloutMode::Off,
            canary_percent: 0.0,
            ..model.rollout.clone()
        }
    } else {
        if !model.aliases.contains_key(CHALLENGER) {
            return Err(no_challenger(&args.name, "to roll out"));
        }
        Rollout {
            mode: if args.shadow {
                RolloutMode::Shadow
            } else {
                RolloutMode::Canary
            },
            canary_percent: args.canary.unwrap_or(0.0),
            max_error_rate: args.max_error_rate,
            max_p99_ms: args.max_p99_ms,
            min_requests: args.min_requests.unwrap_or(Rollout::default().min_requests),
        }
    };
    let update = RegistryUpdate {
        action: "rollout".to_string(),
        aliases: Vec::new(),
        rollout: Some(rollout.clone()),
    };
    let entries = store.update_registry(&args.name, &update, &change(args.reason.as_deref()))?;
    if args.json {
        let out = json!({"model": args.name, "rollout": rollout, "audit": entries});
        crate::outln!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        match model.aliases.get(CHALLENGER) {
            Some(v) if !args.off => crate::outln!(
                "{}: challenger (version {v}) in {}",
                args.name,
                rollout_text(&rollout)
            ),
            _ => crate::outln!(
                "{}: rollout off; all traffic goes to the champion",
                args.name
            ),
        }
    }
    Ok(())
}

fn promote(store: &Store, name: &str, reason: Option<&str>, json: bool) -> Result<()> {
    let model = store.get_model(name)?;
    let Some(&challenger) = model.aliases.get(CHALLENGER) else {
        return Err(no_challenger(name, "to promote"));
    };
    let entries = store.promote(name, &change(reason))?;
    if json {
        let out = json!({
            "model": name,
            "champion": challenger,
            "previous_champion": model.aliases.get(CHAMPION),
            "audit": entries,
        });
        crate::outln!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        crate::outln!("{name}: promoted version {challenger} to champion");
        print_changes(name, &entries);
    }
    Ok(())
}

fn rollback(
    store: &Store,
    name: &str,
    to: Option<u32>,
    reason: Option<&str>,
    json: bool,
) -> Result<()> {
    let model = store.get_model(name)?;
    let rollout_active = model.rollout.mode != RolloutMode::Off;
    let champion = model.aliases.get(CHAMPION).copied();
    let entries = store
        .rollback(name, to, &change(reason))
        .map_err(|e| match e {
            StoreError::NothingToRollBack(_) => {
                anyhow::Error::new(ModelNotFound(format!("{e}; pass --to VERSION to pick one")))
            }
            other => other.into(),
        })?;
    let target = entries
        .iter()
        .find(|e| e.alias.as_deref() == Some(CHAMPION))
        .and_then(|e| e.to_version);
    if json {
        let out = json!({
            "model": name,
            "rollout_stopped": rollout_active,
            "champion": target.or(champion),
            "previous_champion": champion,
            "audit": entries,
        });
        crate::outln!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        if rollout_active {
            crate::outln!(
                "{name}: stopped the {} rollout; all traffic goes to the champion",
                mode_name(model.rollout.mode)
            );
        }
        if target.is_some() {
            print_changes(name, &entries);
        }
    }
    Ok(())
}

fn no_challenger(name: &str, what: &str) -> anyhow::Error {
    anyhow::Error::new(ModelNotFound(format!(
        "model '{name}' has no challenger {what}: point the '{CHALLENGER}' alias at a version \
         first (capstan models alias {name} {CHALLENGER} VERSION)"
    )))
}

/// One line per alias change, e.g. "churn: champion -> 3 (was 2)".
fn print_changes(name: &str, entries: &[AuditEntry]) {
    for e in entries {
        let Some(alias) = &e.alias else { continue };
        let was = e
            .from_version
            .map(|v| format!(" (was {v})"))
            .unwrap_or_default();
        match e.to_version {
            Some(v) => crate::outln!("{name}: {alias} -> {v}{was}"),
            None => crate::outln!("{name}: {alias} removed{was}"),
        }
    }
}

fn audit_table(entries: &[AuditEntry]) -> String {
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.id.to_string(),
                e.at.clone(),
                e.actor.clone(),
                e.model.clone(),
                e.action.clone(),
                describe(e),
                e.reason.clone(),
            ]
        })
        .collect();
    table::render(
        &["id", "at", "actor", "model", "action", "change", "reason"],
        &rows,
    )
}

/// What an audit entry changed: "champion 2 -> 3", "version 4", "canary 10%".
fn describe(e: &AuditEntry) -> String {
    if let Some(alias) = &e.alias {
        return match (e.from_version, e.to_version) {
            (Some(from), Some(to)) => format!("{alias} {from} -> {to}"),
            (None, Some(to)) => format!("{alias} -> {to}"),
            (Some(from), None) => format!("{alias} removed (was {from})"),
            (None, None) => format!("{alias} removed"),
        };
    }
    if let Ok(rollout) = serde_json::from_value::<Rollout>(e.details.clone()) {
        return format!("rollout {}", rollout_text(&rollout));
    }
    match e.to_version {
        Some(v) => format!("version {v}"),
        None => String::new(),
    }
}

/// "champion=3 challenger=4 staging=2": champion, challenger, then the others by name.
fn alias_list(model: &RegisteredModel) -> String {
    let mut aliases: Vec<(&String, &u32)> = model.aliases.iter().collect();
    aliases.sort_by_key(|(alias, _)| match alias.as_str() {
        CHAMPION => 0,
        CHALLENGER => 1,
        _ => 2,
    });
    aliases
        .iter()
        .map(|(alias, version)| format!("{alias}={version}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn mode_name(mode: RolloutMode) -> &'static str {
    match mode {
        RolloutMode::Off => "off",
        RolloutMode::Shadow => "shadow",
        RolloutMode::Canary => "canary",
    }
}

/// "off", "shadow", "canary 10% (max error rate 0.05, max p99 200 ms, min 50 requests)".
fn rollout_text(r: &Rollout) -> String {
    let mut text = match r.mode {
        RolloutMode::Canary => format!("canary {}%", r.canary_percent),
        mode => mode_name(mode).to_string(),
    };
    if r.mode != RolloutMode::Off {
        let mut limits = Vec::new();
        if let Some(x) = r.max_error_rate {
            limits.push(format!("max error rate {x}"));
        }
        if let Some(x) = r.max_p99_ms {
            limits.push(format!("max p99 {x} ms"));
        }
        if !limits.is_empty() {
            limits.push(format!("min {} requests", r.min_requests));
            text.push_str(&format!(" ({})", limits.join(", ")));
        }
    }
    text
}

fn short_sha(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

fn or_dash(s: String) -> String {
    if s.is_empty() { "-".to_string() } else { s }
}
