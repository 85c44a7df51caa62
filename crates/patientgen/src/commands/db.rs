//! The service's database from the command line: opening it (for `keys`) and
//! `patientgen migrate`.

use crate::cli::DatabaseArgs;
use crate::error::{CliError, CliResult};
use crate::output::outln;
use patientgen_storage::{PoolSettings, Store};

/// A runtime for the database and the service.
pub fn runtime() -> CliResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| CliError::Runtime(e.into()))
}

/// Opens the database the service uses.
pub async fn open_store(db: &DatabaseArgs) -> CliResult<Store> {
    let store = Store::connect(
        db.database_url.as_deref(),
        &db.data_dir,
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
