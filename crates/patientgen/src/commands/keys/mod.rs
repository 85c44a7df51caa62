//! `patientgen keys …`: manage API keys in the service's database (embedded or
//! PostgreSQL). One function per subcommand; keys are made by
//! [`patientgen_storage::keys`] and shown by [`print`].

mod print;

use super::db::open_store;
use crate::cli::DatabaseArgs;
use crate::cli::keys::{ImportArgs, KeysCommand, LimitArgs, NewKeyArgs, OutputFormat};
use crate::error::{CliError, CliResult};
use crate::output::outln;
use chrono::{DateTime, Duration, Utc};
use patientgen_storage::{
    ApiKeyRecord, KeyError, KeyFilter, KeyLimits, KeySettings, NewApiKey, Scopes, StorageError, Store, keys,
};
use print::when;
use std::io::{BufRead, IsTerminal, Write};

/// Runs a key command.
pub fn run(cmd: KeysCommand) -> CliResult {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Runtime(e.into()))?;
    let now = Utc::now();
    runtime.block_on(async {
        match cmd {
            KeysCommand::Create { settings, format, db } => create(&db, &settings, format, now).await,
            KeysCommand::Import(args) => import(&args, now).await,
            KeysCommand::List { active, demo, search, limit, format, db } => {
                let filter = KeyFilter { active_only: active, demo_only: demo, search, limit };
                list(&db, &filter, format, now).await
            }
            KeysCommand::Show { key_id, format, db } => show(&db, &key_id, format, now).await,
            KeysCommand::Activate { key_id, db } => set_active(&db, &key_id, true, now).await,
            KeysCommand::Deactivate { key_id, db } => set_active(&db, &key_id, false, now).await,
            KeysCommand::Delete { key_id, confirm, db } => delete(&db, &key_id, confirm).await,
            KeysCommand::Usage { key_id, format, db } => usage(&db, &key_id, format).await,
            KeysCommand::Stats { days, format, db } => stats(&db, days, format, now).await,
            KeysCommand::Limits { key_id, limits, db } => set_limits(&db, &key_id, &limits, now).await,
            KeysCommand::Extend { key_id, days, db } => extend(&db, &key_id, days, now).await,
            KeysCommand::Cleanup { dry_run, db } => cleanup(&db, dry_run, now).await,
            KeysCommand::Rotate { key_id, name, grace, format, db } => {
                rotate(&db, &key_id, name, grace, format, now).await
            }
        }
    })
}

fn db_err(e: StorageError) -> CliError {
    CliError::Runtime(e.into())
}

/// Bad input stays bad input; the rest is a failure while running.
fn key_err(e: KeyError) -> CliError {
    match e {
        KeyError::BadLength | KeyError::BadChecksum => CliError::input(e.to_string()),
        KeyError::NoRandomness => CliError::Runtime(anyhow::anyhow!("no secure random numbers")),
        KeyError::Storage(StorageError::Conflict(_)) => CliError::input("this key already exists"),
        KeyError::Storage(e) => db_err(e),
    }
}

/// A key by id, id prefix, or the key itself.
async fn find(store: &Store, id_or_key: &str) -> CliResult<ApiKeyRecord> {
    match store.get_key(id_or_key).await {
        Ok(Some(k)) => return Ok(k),
        Ok(None) => {}
        Err(StorageError::Ambiguous(why)) => return Err(CliError::input(why)),
        Err(e) => return Err(db_err(e)),
    }
    if let Some(k) = store.find_key_by_hash(&keys::hash_key(id_or_key)).await.map_err(db_err)? {
        return Ok(k);
    }
    Err(CliError::input(format!("no API key matches '{id_or_key}'")))
}

/// The settings a new key's flags describe.
fn key_settings(args: &NewKeyArgs, now: DateTime<Utc>) -> CliResult<KeySettings> {
    if args.name.trim().is_empty() {
        return Err(CliError::input("--name must not be empty"));
    }
    let scopes = Scopes::parse(&args.scopes).map_err(|e| CliError::input(e.to_string()))?;
    if args.expires_days.is_some_and(|d| d < 1) {
        return Err(CliError::input("--expires-days must be at least 1"));
    }
    let base = if args.demo { KeyLimits::demo() } else { KeyLimits::default() };
    Ok(KeySettings {
        name: args.name.trim().to_string(),
        email: args.email.clone(),
        is_demo: args.demo,
        scopes,
        limits: args.limits.apply(base)?,
        expires_at: args.expires_days.map(|d| days_after(now, d, "--expires-days")).transpose()?,
        metadata: serde_json::json!({}),
    })
}

/// `at` plus `days` days, or an input error naming `flag` when that is past
/// the representable dates.
fn days_after(at: DateTime<Utc>, days: i64, flag: &str) -> CliResult<DateTime<Utc>> {
    Duration::try_days(days)
        .and_then(|d| at.checked_add_signed(d))
        .ok_or_else(|| CliError::input(format!("{flag} is too large")))
}

async fn create(db: &DatabaseArgs, args: &NewKeyArgs, format: OutputFormat, now: DateTime<Utc>) -> CliResult {
    let store = open_store(db).await?;
    let settings = key_settings(args, now)?;
    let (key, plaintext) = NewApiKey::generate(settings).map_err(key_err)?;
    let record = store.insert_key(&key, now).await.map_err(|e| key_err(e.into()))?;
    print::created(&record, &plaintext, format, now)
}

/// The plaintext to import: `--key`, `--key-env VAR` or the first line of stdin.
fn plaintext_of(args: &ImportArgs) -> CliResult<String> {
    match (&args.key, &args.key_env, args.stdin) {
        (Some(k), _, _) => Ok(k.clone()),
        (None, Some(var), _) => {
            std::env::var(var).map_err(|_| CliError::input(format!("environment variable {var} is not set")))
        }
        (None, None, true) => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            Ok(line.trim().to_string())
        }
        _ => Err(CliError::input("give the key with --key, --key-env VAR or --stdin")),
    }
}

async fn import(args: &ImportArgs, now: DateTime<Utc>) -> CliResult {
    let plaintext = plaintext_of(args)?;
    keys::check_importable(&plaintext).map_err(key_err)?;
    let store = open_store(&args.db).await?;
    let key = NewApiKey::import(&plaintext, key_settings(&args.settings, now)?).map_err(key_err)?;
    let record = store.insert_key(&key, now).await.map_err(|e| key_err(e.into()))?;
    print::imported(&record, args.format, now)
}

async fn list(db: &DatabaseArgs, filter: &KeyFilter, format: OutputFormat, now: DateTime<Utc>) -> CliResult {
    let store = open_store(db).await?;
    let keys = store.list_keys(filter).await.map_err(db_err)?;
    print::list(&keys, format, now)
}

async fn show(db: &DatabaseArgs, key_id: &str, format: OutputFormat, now: DateTime<Utc>) -> CliResult {
    let store = open_store(db).await?;
    print::show(&find(&store, key_id).await?, format, now)
}

async fn set_active(db: &DatabaseArgs, key_id: &str, active: bool, now: DateTime<Utc>) -> CliResult {
    let store = open_store(db).await?;
    let k = find(&store, key_id).await?;
    let word = if active { "active" } else { "inactive" };
    if k.is_active == active {
        outln!("API key {} is already {word}", k.name);
        return Ok(());
    }
    store.set_key_active(&k.id, active, now).await.map_err(db_err)?;
    outln!("✓ API key {} is now {word}", k.name);
    Ok(())
}

fn confirm(question: &str) -> CliResult<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::input("not a terminal: add --confirm to delete without asking"));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

async fn delete(db: &DatabaseArgs, key_id: &str, confirmed: bool) -> CliResult {
    let store = open_store(db).await?;
    let k = find(&store, key_id).await?;
    if !confirmed && !confirm(&format!("Delete API key {} ({})?", k.name, k.key_prefix))? {
        outln!("Not deleted.");
        return Ok(());
    }
    store.delete_key(&k.id).await.map_err(db_err)?;
    outln!("✓ Deleted API key {} ({})", k.name, k.id);
    Ok(())
}

async fn usage(db: &DatabaseArgs, key_id: &str, format: OutputFormat) -> CliResult {
    let store = open_store(db).await?;
    print::usage(&find(&store, key_id).await?, format)
}

async fn stats(db: &DatabaseArgs, days: i64, format: OutputFormat, now: DateTime<Utc>) -> CliResult {
    if days < 1 {
        return Err(CliError::input("--days must be at least 1"));
    }
    let store = open_store(db).await?;
    let since = Duration::try_days(days)
        .and_then(|d| now.checked_sub_signed(d))
        .ok_or_else(|| CliError::input("--days is too large"))?;
    let s = store.key_stats(since).await.map_err(db_err)?;
    print::stats(&s, days, format, now)
}

async fn set_limits(db: &DatabaseArgs, key_id: &str, limits: &LimitArgs, now: DateTime<Utc>) -> CliResult {
    if !limits.any() {
        return Err(CliError::input(
            "give at least one of --patients, --daily, --hourly, --minute, --patients-per-day",
        ));
    }
    let store = open_store(db).await?;
    let k = find(&store, key_id).await?;
    let before = k.limits();
    let after = limits.apply(before)?;
    store.set_key_limits(&k.id, &after, now).await.map_err(db_err)?;
    print::limits_changed(&k.name, &before, &after);
    Ok(())
}

async fn extend(db: &DatabaseArgs, key_id: &str, days: i64, now: DateTime<Utc>) -> CliResult {
    if days < 1 {
        return Err(CliError::input("--days must be at least 1"));
    }
    let store = open_store(db).await?;
    let k = find(&store, key_id).await?;
    let from = k.expires_at.filter(|e| *e > now).unwrap_or(now);
    let new = days_after(from, days, "--days")?;
    store.set_key_expiry(&k.id, Some(new), now).await.map_err(db_err)?;
    outln!("✓ Expiry of {} moved from {} to {}", k.name, when(k.expires_at), when(Some(new)));
    Ok(())
}

async fn cleanup(db: &DatabaseArgs, dry_run: bool, now: DateTime<Utc>) -> CliResult {
    let store = open_store(db).await?;
    let expired = store.expired_keys(now).await.map_err(db_err)?;
    let verb = if dry_run { "would delete" } else { "deleted" };
    for k in &expired {
        outln!("{verb} {} ({}, expired {})", k.name, k.key_prefix, when(k.expires_at));
        if !dry_run {
            store.delete_key(&k.id).await.map_err(db_err)?;
        }
    }
    let tail = if dry_run { " (dry run: nothing deleted)" } else { " deleted" };
    outln!("{} expired key(s){tail}", expired.len());
    Ok(())
}

async fn rotate(
    db: &DatabaseArgs,
    key_id: &str,
    name: Option<String>,
    grace: std::time::Duration,
    format: OutputFormat,
    now: DateTime<Utc>,
) -> CliResult {
    let until = Duration::from_std(grace)
        .ok()
        .and_then(|g| now.checked_add_signed(g))
        .ok_or_else(|| CliError::input("--grace is too long"))?;
    let store = open_store(db).await?;
    let old = find(&store, key_id).await?;
    let (new, plaintext) = store.rotate_key(&old, name, until, now).await.map_err(key_err)?;
    if format == OutputFormat::Table {
        outln!("✓ Rotated {}: the old key works until {} UTC", old.name, when(Some(until)));
        outln!();
    }
    print::created(&new, &plaintext, format, now)
}
