//! The service's database from the command line: opening it (for `keys`) and
//! `patientgen migrate`.

use crate::cli::DatabaseArgs;
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
    let (url, data_dir) = database(db)?;
    let store = Store::connect(
        url.as_ref().map(|u| u.expose_secret()),
        &data_dir,
        &PoolSettings { max_connections: 2, ..Default::default() },
    )
    .await
    .map_err(|e| CliError::Runtime(anyhow::anyhow!("cannot open the database: {e}")))?;
    store.migrate().await.map_err(|e| CliError::Runtime(anyhow::anyhow!("migrations failed: {e}")))?;
    Ok(store)
}

pub fn migrate(args: DatabaseArgs) -> CliResult {
    runtime()?.block_on(async {
        let store = open_store(&args).await?;
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
