//! The service's database from the command line: opening it (for `keys`),
//! `patientgen migrate` and `patientgen import upstream`.

use crate::cli::{DatabaseArgs, ImportCommand, MigrateArgs};
use crate::error::{CliError, CliResult};
use crate::output::outln;
use patientgen_server::settings::{self, Input};
use patientgen_storage::{PoolSettings, Store};
use secrecy::{ExposeSecret, SecretString};
use std::path::PathBuf;

/// A runtime for the database and the service.
pub fn runtime() -> CliResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| CliError::Runtime(e.into()))
}

/// The database URL and data directory, read like `serve` reads them.
fn database(db: &DatabaseArgs) -> CliResult<(Option<SecretString>, PathBuf)> {
    let mut flags = Vec::new();
    if let Some(url) = &db.database_url {
        flags.push(("database_url", url.clone()));
    }
    if let Some(dir) = &db.data_dir {
        flags.push(("data_dir", dir.display().to_string()));
    }
    let input =
        Input { profile: db.profile.clone(), config_file: db.config.clone(), flags, env: Default::default() };
    let loaded = settings::load(&input.with_process_env()).map_err(|e| CliError::input(e.to_string()))?;
    let url = loaded.settings.database_url.filter(|u| !u.expose_secret().is_empty());
    Ok((url, loaded.settings.data_dir))
}

/// Opens the database the service uses.
pub async fn open_store(db: &DatabaseArgs) -> CliResult<Store> {
    let store = connect(db).await?;
    store.migrate().await.map_err(|e| CliError::Runtime(anyhow::anyhow!("migrations failed: {e}")))?;
    Ok(store)
}

async fn connect(db: &DatabaseArgs) -> CliResult<Store> {
    let (url, data_dir) = database(db)?;
    Store::connect(
        url.as_ref().map(|u| u.expose_secret()),
        &data_dir,
        &PoolSettings { max_connections: 2, ..Default::default() },
    )
    .await
    .map_err(|e| CliError::Runtime(anyhow::anyhow!("cannot open the database: {e}")))
}

pub fn migrate(args: MigrateArgs) -> CliResult {
    runtime()?.block_on(async {
        if let Some(from) = &args.move_from {
            let store = connect(&args.database).await?;
            let moved = store
                .move_tables_from(from)
                .await
                .map_err(|e| CliError::Runtime(anyhow::anyhow!("cannot move the tables: {e}")))?;
            outln!(
                "moved {} from schema \"{from}\" to \"{}\": {}",
                moved.len(),
                store.schema().unwrap_or_default(),
                moved.join(", ")
            );
            store.close().await;
        }
        let store = open_store(&args.database).await?;
        let applied = store.applied_migrations().await.map_err(|e| CliError::Runtime(e.into()))?;
        outln!(
            "{} database is at migration {} ({} applied)",
            store.kind(),
            applied.last().copied().unwrap_or(0),
            applied.len()
        );
        store.close().await;
        Ok(())
    })
}

/// `patientgen import …`.
pub fn import(command: ImportCommand) -> CliResult {
    let ImportCommand::Upstream(args) = command;
    runtime()?.block_on(async {
        let store = open_store(&args.database).await?;
        let source = patientgen_storage::upstream::UpstreamSource {
            database_url: args.from.clone(),
            schema: args.from_schema.clone(),
            configurations_owner: args.configurations_owner.clone(),
        };
        let result = store.import_upstream(&source, chrono::Utc::now()).await;
        store.close().await;
        let report =
            result.map_err(|e| CliError::Runtime(anyhow::anyhow!("cannot import from upstream: {e}")))?;
        if args.json {
            let text = serde_json::to_string_pretty(&report).map_err(|e| CliError::Runtime(e.into()))?;
            outln!("{text}");
            return Ok(());
        }
        outln!(
            "imported {} API key(s) ({} inactive, stored hashed), skipped {}",
            report.keys_imported,
            report.keys_inactive,
            report.keys_skipped.len()
        );
        for s in &report.keys_skipped {
            outln!("  key {} ({}): {}", s.id, s.name, s.reason);
        }
        outln!(
            "imported {} saved configuration(s), skipped {}",
            report.configurations_imported,
            report.configurations_skipped.len()
        );
        for s in &report.configurations_skipped {
            outln!("  configuration {} ({}): {}", s.id, s.name, s.reason);
        }
        for table in &report.missing_tables {
            outln!("upstream has no {table} table: nothing imported from it");
        }
        Ok(())
    })
}
