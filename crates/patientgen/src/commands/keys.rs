//! `patientgen keys …`: manage API keys in the service's database (embedded or
//! PostgreSQL). Output as a table (default), JSON or CSV, in upstream's shapes.

use super::serve::open_store;
use crate::cli::DatabaseArgs;
use crate::error::{CliError, CliResult};
use crate::output::outln;
use chrono::{DateTime, Duration, Utc};
use clap::{Args, Subcommand, ValueEnum};
use patientgen_server::auth::{
    KeyKind, checksum_valid, display_prefix, generate_key, hash_key, looks_generated,
};
use patientgen_storage::{ApiKeyRecord, KeyFilter, KeyLimits, NewApiKey, Store};
use serde_json::{Value, json};
use std::io::{BufRead, IsTerminal, Write};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned text.
    Table,
    /// JSON (upstream's shapes).
    Json,
    /// CSV (upstream's columns).
    Csv,
}

/// Limits given on the command line.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Patients per request (default 1000; demo 50).
    #[arg(long, value_name = "N")]
    pub patients: Option<i32>,
    /// Requests per day (default unlimited; demo 100).
    #[arg(long, value_name = "N")]
    pub daily: Option<i32>,
    /// Requests per hour (default 1000; demo 50).
    #[arg(long, value_name = "N")]
    pub hourly: Option<i32>,
    /// Requests per minute (default 60; demo 10).
    #[arg(long, value_name = "N")]
    pub minute: Option<i32>,
    /// Patients per day (default unlimited).
    #[arg(long, value_name = "N")]
    pub patients_per_day: Option<i32>,
}

impl LimitArgs {
    fn apply(&self, mut base: KeyLimits) -> CliResult<KeyLimits> {
        for (name, v) in [
            ("--patients", self.patients),
            ("--daily", self.daily),
            ("--hourly", self.hourly),
            ("--minute", self.minute),
            ("--patients-per-day", self.patients_per_day),
        ] {
            if v.is_some_and(|v| v < 1) {
                return Err(CliError::input(format!("{name} must be at least 1")));
            }
        }
        if let Some(v) = self.patients {
            base.max_patients_per_request = v;
        }
        if let Some(v) = self.hourly {
            base.max_requests_per_hour = v;
        }
        if let Some(v) = self.minute {
            base.max_requests_per_minute = v;
        }
        if self.daily.is_some() {
            base.max_requests_per_day = self.daily;
        }
        if self.patients_per_day.is_some() {
            base.max_patients_per_day = self.patients_per_day;
        }
        Ok(base)
    }

    fn any(&self) -> bool {
        self.patients.is_some()
            || self.daily.is_some()
            || self.hourly.is_some()
            || self.minute.is_some()
            || self.patients_per_day.is_some()
    }
}

/// Settings of a new key.
#[derive(Debug, Clone, Args)]
pub struct NewKeyArgs {
    /// Name.
    #[arg(long)]
    pub name: String,
    /// Contact e-mail.
    #[arg(long)]
    pub email: Option<String>,
    /// A demo key (`sk_demo_`, upstream's demo limits unless overridden).
    #[arg(long)]
    pub demo: bool,
    /// Expire after this many days.
    #[arg(long, value_name = "DAYS")]
    pub expires_days: Option<i64>,
    /// Scopes, comma-separated: generate, read, admin.
    #[arg(long, default_value = "generate,read")]
    pub scopes: String,
    /// Limits.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// `keys import`: where the plaintext comes from.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The key itself (visible in shell history; prefer --key-env or --stdin).
    #[arg(long, conflicts_with_all = ["key_env", "stdin"])]
    pub key: Option<String>,
    /// Read the key from this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with = "stdin")]
    pub key_env: Option<String>,
    /// Read the key from the first line of standard input.
    #[arg(long)]
    pub stdin: bool,
    /// Settings.
    #[command(flatten)]
    pub settings: NewKeyArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// Key commands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key; the key is shown once.
    Create {
        /// Settings.
        #[command(flatten)]
        settings: NewKeyArgs,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
        /// Database.
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// List keys.
    List {
        /// Only active keys.
        #[arg(long)]
        active: bool,
        /// Only demo keys.
        #[arg(long)]
        demo: bool,
        /// Name or e-mail contains.
        #[arg(long)]
        search: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
        /// Database.
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Show a key (by id, id prefix, or the key itself).
    Show {
        /// Key id or key.
        key_id: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
        /// Database.
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Re-enable a key.
    Activate {
        /// Key id or key.
        key_id: String,
        /// Database.
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Disable a key (takes effect on every server).
    Deactivate {
        /// Key id or key.
        key_id: String,
        /// Database.
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Delete a key.
    Delete {
        /// Key id or key.
        key_id: String,
        /// Do not ask.
        #[arg(long)]
        confirm: bool,
        /// Database.
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Usage counters of a key.
    Usage {
        /// Key id or key.
        key_id: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
        /// Database.
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Figures over all keys.
    Stats {
        /// Period for "recently used", days.
        #[arg(long, default_value_t = 30)]
        days: i64,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
        /// Database.
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Change a key's limits.
    Limits {
        /// Key id or key.
        key_id: String,
        /// New limits (others unchanged).
        #[command(flatten)]
        limits: LimitArgs,
        /// Database.
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Move a key's expiry later.
    Extend {
        /// Key id or key.
        key_id: String,
        /// Days to add.
        #[arg(long)]
        days: i64,
        /// Database.
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Delete expired keys.
    Cleanup {
        /// Only list them.
        #[arg(long)]
        dry_run: bool,
        /// Database.
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Issue a new key with the same settings; the old one works until the grace period ends.
    Rotate {
        /// Key id or key.
        key_id: String,
        /// Name of the new key (default: "<old name> (Rotated)").
        #[arg(long)]
        name: Option<String>,
        /// How long the old key keeps working, e.g. 24h, 30m, 7d, 0s.
        #[arg(long, default_value = "24h", value_parser = parse_duration)]
        grace: std::time::Duration,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
        /// Database.
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Store an existing plaintext key (e.g. from upstream's table), hashed.
    Import(Box<ImportArgs>),
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("not a duration like 24h or 30m: {e}"))
}

fn rt() -> CliResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Runtime(e.into()))
}

fn db_err(e: patientgen_storage::StorageError) -> CliError {
    CliError::Runtime(e.into())
}

/// Runs a key command.
pub fn run(cmd: KeysCommand) -> CliResult {
    rt()?.block_on(run_async(cmd))
}

async fn find(store: &Store, id_or_key: &str) -> CliResult<ApiKeyRecord> {
    match store.get_key(id_or_key).await {
        Ok(Some(k)) => return Ok(k),
        Ok(None) => {}
        Err(patientgen_storage::StorageError::Ambiguous(why)) => return Err(CliError::input(why)),
        Err(e) => return Err(db_err(e)),
    }
    if let Some(k) = store.find_key_by_hash(&hash_key(id_or_key)).await.map_err(db_err)? {
        return Ok(k);
    }
    Err(CliError::input(format!("no API key matches '{id_or_key}'")))
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "Never".into(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string())
}

fn iso(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::from(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
}

fn limits_json(k: &ApiKeyRecord) -> Value {
    json!({
        "patients_per_request": k.max_patients_per_request,
        "requests_per_day": k.max_requests_per_day.map_or(Value::from("Unlimited"), Value::from),
        "requests_per_hour": k.max_requests_per_hour,
        "requests_per_minute": k.max_requests_per_minute,
        "patients_per_day": k.max_patients_per_day.map_or(Value::from("Unlimited"), Value::from),
    })
}

fn usage_json(k: &ApiKeyRecord) -> Value {
    json!({
        "total_requests": k.total_requests,
        "total_patients": k.total_patients_generated,
        "daily_requests": k.daily_requests,
        "daily_patients": k.daily_patients,
        "last_used": iso(k.last_used_at),
        "last_reset": iso(Some(k.last_reset_at)),
    })
}

fn list_json(k: &ApiKeyRecord) -> Value {
    json!({
        "id": k.id, "key_prefix": k.key_prefix, "name": k.name, "email": k.email,
        "is_active": k.is_active, "is_demo": k.is_demo, "scopes": k.scope_list(),
        "created_at": iso(Some(k.created_at)), "expires_at": iso(k.expires_at), "last_used_at": iso(k.last_used_at),
        "usage": usage_json(k), "limits": limits_json(k),
    })
}

fn print_json(v: &Value) -> CliResult {
    let text = serde_json::to_string_pretty(v).map_err(|e| CliError::Runtime(e.into()))?;
    outln!("{text}");
    Ok(())
}

fn status_of(k: &ApiKeyRecord, now: DateTime<Utc>) -> &'static str {
    if !k.is_active {
        "inactive"
    } else if k.is_expired(now) {
        "expired"
    } else {
        "active"
    }
}

fn limit_text(v: Option<i32>) -> String {
    v.map_or_else(|| "unlimited".into(), |n| n.to_string())
}

fn print_key_table(k: &ApiKeyRecord, now: DateTime<Utc>) {
    outln!("ID:                  {}", k.id);
    outln!("Key:                 {}", k.key_prefix);
    outln!("Name:                {}", k.name);
    outln!("E-mail:              {}", k.email.as_deref().unwrap_or("-"));
    outln!("Status:              {}", status_of(k, now));
    outln!("Type:                {}", if k.is_demo { "demo" } else { "live" });
    outln!("Scopes:              {}", k.scopes);
    outln!("Created:             {}", when(Some(k.created_at)));
    outln!("Expires:             {}", when(k.expires_at));
    outln!("Last used:           {}", when(k.last_used_at));
    outln!("Patients/request:    {}", k.max_patients_per_request);
    outln!("Requests/minute:     {}", k.max_requests_per_minute);
    outln!("Requests/hour:       {}", k.max_requests_per_hour);
    outln!("Requests/day:        {}", limit_text(k.max_requests_per_day));
    outln!("Patients/day:        {}", limit_text(k.max_patients_per_day));
    outln!("Requests (total):    {}", k.total_requests);
    outln!("Patients (total):    {}", k.total_patients_generated);
    if let Some(r) = &k.replaced_by {
        outln!("Replaced by:         {r}");
    }
}

fn created_json(k: &ApiKeyRecord, plaintext: &str) -> Value {
    json!({
        "id": k.id, "key": plaintext, "name": k.name, "email": k.email, "is_demo": k.is_demo, "scopes": k.scope_list(),
        "expires_at": iso(k.expires_at), "created_at": iso(Some(k.created_at)), "limits": limits_json(k),
    })
}

fn print_created(k: &ApiKeyRecord, plaintext: &str, format: OutputFormat, now: DateTime<Utc>) -> CliResult {
    match format {
        OutputFormat::Json => print_json(&created_json(k, plaintext)),
        OutputFormat::Csv => {
            outln!("ID,Key,Name,Email,Demo,Expires");
            outln!(
                "{},{},{},{},{},{}",
                csv(&k.id),
                csv(plaintext),
                csv(&k.name),
                csv(k.email.as_deref().unwrap_or("")),
                yes(k.is_demo),
                when(k.expires_at)
            );
            Ok(())
        }
        OutputFormat::Table => {
            print_key_table(k, now);
            outln!();
            outln!("API key: {plaintext}");
            outln!("Store it now: it is kept only as a hash and cannot be shown again.");
            Ok(())
        }
    }
}

fn yes(b: bool) -> &'static str {
    if b { "Yes" } else { "No" }
}

fn csv(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

fn new_key(settings: &NewKeyArgs, plaintext: &str, now: DateTime<Utc>) -> CliResult<NewApiKey> {
    if settings.name.trim().is_empty() {
        return Err(CliError::input("--name must not be empty"));
    }
    for scope in settings.scopes.split(',').map(str::trim) {
        if !["generate", "read", "admin"].contains(&scope) {
            return Err(CliError::input(format!("unknown scope '{scope}' (generate, read, admin)")));
        }
    }
    if settings.expires_days.is_some_and(|d| d < 1) {
        return Err(CliError::input("--expires-days must be at least 1"));
    }
    let base = if settings.demo { KeyLimits::demo() } else { KeyLimits::default() };
    Ok(NewApiKey {
        id: uuid::Uuid::new_v4().to_string(),
        key_hash: hash_key(plaintext),
        key_prefix: display_prefix(plaintext),
        name: settings.name.trim().to_string(),
        email: settings.email.clone(),
        is_demo: settings.demo,
        scopes: settings.scopes.split(',').map(str::trim).collect::<Vec<_>>().join(","),
        limits: settings.limits.apply(base)?,
        expires_at: settings.expires_days.map(|d| days_after(now, d, "--expires-days")).transpose()?,
        metadata: json!({}),
    })
}

/// `at` plus `days` days, or an input error naming `flag` when that is past
/// the representable dates.
fn days_after(at: DateTime<Utc>, days: i64, flag: &str) -> CliResult<DateTime<Utc>> {
    Duration::try_days(days)
        .and_then(|d| at.checked_add_signed(d))
        .ok_or_else(|| CliError::input(format!("{flag} is too large")))
}

async fn insert(store: &Store, key: &NewApiKey, now: DateTime<Utc>) -> CliResult<ApiKeyRecord> {
    store.insert_key(key, now).await.map_err(|e| match e {
        patientgen_storage::StorageError::Conflict(_) => CliError::input("this key already exists"),
        other => db_err(other),
    })
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

async fn run_async(cmd: KeysCommand) -> CliResult {
    let now = Utc::now();
    match cmd {
        KeysCommand::Create { settings, format, db } => {
            let store = open_store(&db).await?;
            let plaintext = generate_key(if settings.demo { KeyKind::Demo } else { KeyKind::Live })
                .map_err(|_| CliError::Runtime(anyhow::anyhow!("no secure random numbers")))?;
            let key = insert(&store, &new_key(&settings, &plaintext, now)?, now).await?;
            print_created(&key, &plaintext, format, now)
        }
        KeysCommand::Import(args) => {
            let plaintext = match (&args.key, &args.key_env, args.stdin) {
                (Some(k), _, _) => k.clone(),
                (None, Some(var), _) => std::env::var(var)
                    .map_err(|_| CliError::input(format!("environment variable {var} is not set")))?,
                (None, None, true) => {
                    let mut line = String::new();
                    std::io::stdin().lock().read_line(&mut line)?;
                    line.trim().to_string()
                }
                _ => return Err(CliError::input("give the key with --key, --key-env VAR or --stdin")),
            };
            if plaintext.len() < 8 || plaintext.len() > 256 || plaintext.chars().any(char::is_whitespace) {
                return Err(CliError::input("the key must be 8-256 characters without spaces"));
            }
            if looks_generated(&plaintext) && !checksum_valid(&plaintext) {
                return Err(CliError::input("this looks like a patientgen key but its checksum is wrong"));
            }
            let store = open_store(&args.db).await?;
            let mut key = new_key(&args.settings, &plaintext, now)?;
            key.metadata = json!({ "imported": true });
            let record = insert(&store, &key, now).await?;
            match args.format {
                OutputFormat::Json => print_json(&list_json(&record)),
                _ => {
                    print_key_table(&record, now);
                    outln!("\nImported: the key is stored as a hash.");
                    Ok(())
                }
            }
        }
        KeysCommand::List { active, demo, search, limit, format, db } => {
            let store = open_store(&db).await?;
            let keys = store
                .list_keys(&KeyFilter { active_only: active, demo_only: demo, search, limit })
                .await
                .map_err(db_err)?;
            match format {
                OutputFormat::Json => {
                    print_json(&Value::from(keys.iter().map(list_json).collect::<Vec<_>>()))
                }
                OutputFormat::Csv => {
                    outln!(
                        "ID,Key Prefix,Name,Email,Active,Demo,Created,Expires,Last Used,Total Requests,Daily Requests"
                    );
                    for k in &keys {
                        outln!(
                            "{},{},{},{},{},{},{},{},{},{},{}",
                            k.id,
                            csv(&k.key_prefix),
                            csv(&k.name),
                            csv(k.email.as_deref().unwrap_or("")),
                            yes(k.is_active),
                            yes(k.is_demo),
                            when(Some(k.created_at)),
                            when(k.expires_at),
                            when(k.last_used_at),
                            k.total_requests,
                            k.daily_requests
                        );
                    }
                    Ok(())
                }
                OutputFormat::Table => {
                    outln!(
                        "{:<8}  {:<18} {:<24} {:<24} {:<8} {:<4} {:>8}  LAST USED",
                        "ID",
                        "KEY",
                        "NAME",
                        "EMAIL",
                        "STATUS",
                        "TYPE",
                        "REQUESTS"
                    );
                    for k in &keys {
                        outln!(
                            "{:<8}  {:<18} {:<24} {:<24} {:<8} {:<4} {:>8}  {}",
                            &k.id[..8.min(k.id.len())],
                            k.key_prefix,
                            truncate(&k.name, 24),
                            truncate(k.email.as_deref().unwrap_or("-"), 24),
                            status_of(k, now),
                            if k.is_demo { "demo" } else { "live" },
                            k.total_requests,
                            when(k.last_used_at)
                        );
                    }
                    outln!("{} key(s)", keys.len());
                    Ok(())
                }
            }
        }
        KeysCommand::Show { key_id, format, db } => {
            let store = open_store(&db).await?;
            let k = find(&store, &key_id).await?;
            match format {
                OutputFormat::Json => {
                    let mut v = list_json(&k);
                    if let Some(o) = v.as_object_mut() {
                        o.insert("updated_at".into(), iso(Some(k.updated_at)));
                        o.insert("last_reset_at".into(), iso(Some(k.last_reset_at)));
                        o.insert("metadata".into(), k.key_metadata.0.clone());
                        o.insert("replaced_by".into(), Value::from(k.replaced_by.clone()));
                    }
                    print_json(&v)
                }
                _ => {
                    print_key_table(&k, now);
                    Ok(())
                }
            }
        }
        KeysCommand::Activate { key_id, db } => set_active(&db, &key_id, true, now).await,
        KeysCommand::Deactivate { key_id, db } => set_active(&db, &key_id, false, now).await,
        KeysCommand::Delete { key_id, confirm: yes_flag, db } => {
            let store = open_store(&db).await?;
            let k = find(&store, &key_id).await?;
            if !yes_flag && !confirm(&format!("Delete API key {} ({})?", k.name, k.key_prefix))? {
                outln!("Not deleted.");
                return Ok(());
            }
            store.delete_key(&k.id).await.map_err(db_err)?;
            outln!("✓ Deleted API key {} ({})", k.name, k.id);
            Ok(())
        }
        KeysCommand::Usage { key_id, format, db } => {
            let store = open_store(&db).await?;
            let k = find(&store, &key_id).await?;
            match format {
                OutputFormat::Json => print_json(
                    &json!({ "key_id": k.id, "key_name": k.name, "usage": usage_json(&k), "limits": limits_json(&k) }),
                ),
                _ => {
                    outln!("Key:                 {} ({})", k.name, k.key_prefix);
                    outln!("Requests (total):    {}", k.total_requests);
                    outln!("Patients (total):    {}", k.total_patients_generated);
                    outln!(
                        "Requests today:      {} of {}",
                        k.daily_requests,
                        limit_text(k.max_requests_per_day)
                    );
                    outln!(
                        "Patients today:      {} of {}",
                        k.daily_patients,
                        limit_text(k.max_patients_per_day)
                    );
                    outln!("Last used:           {}", when(k.last_used_at));
                    Ok(())
                }
            }
        }
        KeysCommand::Stats { days, format, db } => {
            if days < 1 {
                return Err(CliError::input("--days must be at least 1"));
            }
            let store = open_store(&db).await?;
            let since = Duration::try_days(days)
                .and_then(|d| now.checked_sub_signed(d))
                .ok_or_else(|| CliError::input("--days is too large"))?;
            let s = store.key_stats(since).await.map_err(db_err)?;
            match format {
                OutputFormat::Json => {
                    let mut stats = serde_json::to_value(&s).unwrap_or_default();
                    if let Some(o) = stats.as_object_mut() {
                        o.insert("period_days".into(), Value::from(days));
                    }
                    print_json(
                        &json!({ "period_days": days, "statistics": stats, "generated_at": iso(Some(now)) }),
                    )
                }
                _ => {
                    outln!(
                        "Keys:                {} ({} active, {} demo, {} live)",
                        s.total_keys,
                        s.active_keys,
                        s.demo_keys,
                        s.live_keys
                    );
                    outln!("{:<21}{}", format!("Used in {days} days:"), s.recently_used_keys);
                    outln!("Requests (all time): {}", s.total_requests_all_time);
                    outln!("Patients (all time): {}", s.total_patients_all_time);
                    Ok(())
                }
            }
        }
        KeysCommand::Limits { key_id, limits, db } => {
            if !limits.any() {
                return Err(CliError::input(
                    "give at least one of --patients, --daily, --hourly, --minute, --patients-per-day",
                ));
            }
            let store = open_store(&db).await?;
            let k = find(&store, &key_id).await?;
            let current = k.limits();
            let new = limits.apply(current)?;
            store.set_key_limits(&k.id, &new, now).await.map_err(db_err)?;
            outln!("✓ Limits of {} updated", k.name);
            outln!(
                "  patients/request {} → {}",
                current.max_patients_per_request,
                new.max_patients_per_request
            );
            outln!(
                "  requests/minute  {} → {}",
                current.max_requests_per_minute,
                new.max_requests_per_minute
            );
            outln!("  requests/hour    {} → {}", current.max_requests_per_hour, new.max_requests_per_hour);
            outln!(
                "  requests/day     {} → {}",
                limit_text(current.max_requests_per_day),
                limit_text(new.max_requests_per_day)
            );
            outln!(
                "  patients/day     {} → {}",
                limit_text(current.max_patients_per_day),
                limit_text(new.max_patients_per_day)
            );
            Ok(())
        }
        KeysCommand::Extend { key_id, days, db } => {
            if days < 1 {
                return Err(CliError::input("--days must be at least 1"));
            }
            let store = open_store(&db).await?;
            let k = find(&store, &key_id).await?;
            let from = k.expires_at.filter(|e| *e > now).unwrap_or(now);
            let new = days_after(from, days, "--days")?;
            store.set_key_expiry(&k.id, Some(new), now).await.map_err(db_err)?;
            outln!("✓ Expiry of {} moved from {} to {}", k.name, when(k.expires_at), when(Some(new)));
            Ok(())
        }
        KeysCommand::Cleanup { dry_run, db } => {
            let store = open_store(&db).await?;
            let expired = store.expired_keys(now).await.map_err(db_err)?;
            for k in &expired {
                outln!(
                    "{} {} ({}, expired {})",
                    if dry_run { "would delete" } else { "deleted" },
                    k.name,
                    k.key_prefix,
                    when(k.expires_at)
                );
                if !dry_run {
                    store.delete_key(&k.id).await.map_err(db_err)?;
                }
            }
            outln!(
                "{} expired key(s){}",
                expired.len(),
                if dry_run { " (dry run: nothing deleted)" } else { " deleted" }
            );
            Ok(())
        }
        KeysCommand::Rotate { key_id, name, grace, format, db } => {
            let until = Duration::from_std(grace)
                .ok()
                .and_then(|g| now.checked_add_signed(g))
                .ok_or_else(|| CliError::input("--grace is too long"))?;
            let store = open_store(&db).await?;
            let old = find(&store, &key_id).await?;
            let plaintext = generate_key(if old.is_demo { KeyKind::Demo } else { KeyKind::Live })
                .map_err(|_| CliError::Runtime(anyhow::anyhow!("no secure random numbers")))?;
            let key = NewApiKey {
                id: uuid::Uuid::new_v4().to_string(),
                key_hash: hash_key(&plaintext),
                key_prefix: display_prefix(&plaintext),
                name: name.unwrap_or_else(|| format!("{} (Rotated)", old.name)),
                email: old.email.clone(),
                is_demo: old.is_demo,
                scopes: old.scopes.clone(),
                limits: old.limits(),
                expires_at: old.expires_at,
                metadata: json!({ "rotated_from": old.id }),
            };
            let new = insert(&store, &key, now).await?;
            store.mark_key_rotated(&old.id, &new.id, until, now).await.map_err(db_err)?;
            if format == OutputFormat::Table {
                outln!("✓ Rotated {}: the old key works until {} UTC", old.name, when(Some(until)));
                outln!();
            }
            print_created(&new, &plaintext, format, now)
        }
    }
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

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}
