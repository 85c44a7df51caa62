//! Our PostgreSQL schema: patientgen keeps its tables in a schema of its own
//! (`patientgen` unless `DATABASE_URL` names one with `options=-c
//! search_path=<schema>`), so a database shared with other applications —
//! upstream medical-patients' alembic tables `api_keys`, `jobs`,
//! `configuration_templates` in `public` above all — is safe for both.
//!
//! Before migrating, the schema is looked at: tables of ours that patientgen
//! did not create, or patientgen's tables left in `public` by an earlier
//! version, stop the migration with one plain message saying what was found
//! and what to do, instead of a database error in the middle of a migration.

use crate::{StorageError, StorageResult};
use sqlx::PgPool;
use sqlx::migrate::Migrator;

/// The schema used when `DATABASE_URL` does not name one.
pub const DEFAULT_SCHEMA: &str = "patientgen";

/// The first schema of a `search_path` set in connection options
/// (`-c search_path=a,b` or `--search_path=a`), if any.
pub(crate) fn schema_in_options(options: Option<&str>) -> Option<String> {
    let options = options?;
    let at = options.find("search_path=")? + "search_path=".len();
    let value: String = options[at..].chars().take_while(|c| !c.is_whitespace()).collect();
    let first = value.split(',').next()?.trim().trim_matches('"').replace("\\", "");
    (!first.is_empty()).then_some(first)
}

/// `name` quoted as an SQL identifier.
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Tables and functions the migrations create (read from their SQL, so a new
/// migration's objects are known without a list to keep up to date).
fn our_objects(migrator: &Migrator) -> (Vec<String>, Vec<String>) {
    let mut tables = vec!["_sqlx_migrations".to_string()];
    let mut functions = Vec::new();
    for migration in migrator.iter() {
        let sql = migration.sql.as_ref();
        let words: Vec<&str> = sql.split_whitespace().collect();
        for (i, w) in words.iter().enumerate() {
            let next = |n: usize| words.get(i + n).copied().unwrap_or("").to_ascii_uppercase();
            if w.eq_ignore_ascii_case("CREATE") && next(1) == "TABLE" {
                let skip = if next(2) == "IF" { 5 } else { 2 };
                if let Some(name) = words.get(i + skip) {
                    let name = name.trim_end_matches('(').to_string();
                    if !tables.contains(&name) {
                        tables.push(name);
                    }
                }
            }
            if w.eq_ignore_ascii_case("FUNCTION") && i > 0 {
                let before = words[i - 1].to_ascii_uppercase();
                if (before == "CREATE" || before == "REPLACE")
                    && let Some(name) = words.get(i + 1)
                {
                    let signature = name.split('(').next().unwrap_or(name).to_string();
                    if !functions.contains(&signature) {
                        functions.push(signature);
                    }
                }
            }
        }
    }
    (tables, functions)
}

async fn tables_in(pool: &PgPool, schema: &str) -> StorageResult<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name",
    )
    .bind(schema)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

fn found(schema: &str, tables: &[String]) -> String {
    format!(
        "schema \"{schema}\" already holds table{} {}",
        if tables.len() == 1 { "" } else { "s" },
        tables.join(", ")
    )
}

/// Creates `schema` if needed, checks what is in it, and applies `migrator`.
pub(crate) async fn migrate(pool: &PgPool, schema: &str, migrator: &Migrator) -> StorageResult<()> {
    let create = format!("CREATE SCHEMA IF NOT EXISTS {}", quote(schema));
    if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(create)).execute(pool).await {
        // Another instance may have created it at the same moment.
        let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_namespace WHERE nspname = $1")
            .bind(schema)
            .fetch_optional(pool)
            .await?;
        if exists.is_none() {
            return Err(StorageError::Schema(format!(
                "cannot create the schema \"{schema}\" for patientgen's tables: {}. Create it for the \
                 database user (CREATE SCHEMA {} AUTHORIZATION <user>) or name an existing schema with \
                 options=-c search_path=<schema> in DATABASE_URL",
                database_message(&e),
                quote(schema)
            )));
        }
    }
    let present = tables_in(pool, schema).await?;
    let (ours, _) = our_objects(migrator);
    if !present.iter().any(|t| t == "_sqlx_migrations") {
        let clashing: Vec<String> = present.iter().filter(|t| ours.contains(t)).cloned().collect();
        if !clashing.is_empty() {
            let upstream = present.iter().any(|t| t == "alembic_version");
            return Err(StorageError::Schema(format!(
                "{}, not created by patientgen (no _sqlx_migrations table){}. patientgen keeps its tables \
                 in a schema of its own: remove search_path from DATABASE_URL (the default schema is \
                 \"{DEFAULT_SCHEMA}\") or name an empty schema{}",
                found(schema, &clashing),
                if upstream {
                    "; they look like medical-patients' alembic tables (alembic_version is there)"
                } else {
                    ""
                },
                if upstream {
                    "; `patientgen import upstream --from <DATABASE_URL>` copies its API keys and saved configurations"
                } else {
                    ""
                }
            )));
        }
        if schema != "public" && has_our_tables(pool, "public").await? {
            return Err(StorageError::Schema(format!(
                "patientgen's tables are in schema \"public\" (where versions before the own schema kept \
                 them) and schema \"{schema}\" has none. Move them once with `patientgen migrate \
                 --move-from public` (stop every instance first), or keep them where they are with \
                 options=-c search_path=public in DATABASE_URL"
            )));
        }
    }
    migrator.run(pool).await.map_err(|e| migration_failed(schema, migrator, e))
}

/// Whether `schema` holds patientgen's tables (its migration record and the
/// key revision table, which only patientgen has).
async fn has_our_tables(pool: &PgPool, schema: &str) -> StorageResult<bool> {
    let present = tables_in(pool, schema).await?;
    Ok(["_sqlx_migrations", "api_key_revision"].iter().all(|t| present.iter().any(|p| p == t)))
}

/// One plain message for a migration that did not apply.
fn migration_failed(schema: &str, migrator: &Migrator, e: sqlx::migrate::MigrateError) -> StorageError {
    use sqlx::migrate::MigrateError;
    let name = |version: i64| {
        migrator
            .iter()
            .find(|m| m.version == version)
            .map_or_else(|| version.to_string(), |m| format!("{version} ({})", m.description))
    };
    let text = match &e {
        MigrateError::ExecuteMigration(source, version) => format!(
            "migration {} cannot be applied in schema \"{schema}\": {}",
            name(*version),
            database_message(source)
        ),
        MigrateError::Execute(source) => {
            format!("migrations cannot run in schema \"{schema}\": {}", database_message(source))
        }
        MigrateError::VersionMismatch(v) => format!(
            "migration {} applied in schema \"{schema}\" differs from this version's: the database was \
             migrated by another build of patientgen",
            name(*v)
        ),
        MigrateError::VersionMissing(v) => format!(
            "schema \"{schema}\" was migrated by a newer patientgen (migration {v} is unknown to this version)"
        ),
        other => format!("migrations in schema \"{schema}\": {other}"),
    };
    StorageError::Schema(text)
}

/// The database's own message (no driver prefix), with its position when given.
fn database_message(e: &sqlx::Error) -> String {
    match e.as_database_error() {
        Some(d) => d.message().to_string(),
        None => e.to_string(),
    }
}

/// Moves patientgen's tables (and their indexes, constraints, triggers and
/// functions) from `from` into `schema`, in one transaction. Returns the
/// names moved. Refuses when `schema` already has patientgen's tables.
pub(crate) async fn move_from(
    pool: &PgPool,
    from: &str,
    schema: &str,
    migrator: &Migrator,
) -> StorageResult<Vec<String>> {
    if from == schema {
        return Err(StorageError::Schema(format!("the tables are already in schema \"{schema}\"")));
    }
    let (tables, functions) = our_objects(migrator);
    let present = tables_in(pool, from).await?;
    if !present.iter().any(|t| t == "_sqlx_migrations") {
        return Err(StorageError::Schema(format!(
            "schema \"{from}\" has no patientgen tables (no _sqlx_migrations table): nothing to move"
        )));
    }
    let target = tables_in(pool, schema).await.unwrap_or_default();
    let clashing: Vec<String> = target.iter().filter(|t| tables.contains(t)).cloned().collect();
    if !clashing.is_empty() {
        return Err(StorageError::Schema(format!(
            "{}: move refused, nothing was changed",
            found(schema, &clashing)
        )));
    }
    let mut tx = pool.begin().await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA IF NOT EXISTS {}", quote(schema))))
        .execute(&mut *tx)
        .await?;
    let mut moved = Vec::new();
    for table in tables.iter().filter(|t| present.contains(t)) {
        let sql = format!("ALTER TABLE {}.{} SET SCHEMA {}", quote(from), quote(table), quote(schema));
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *tx).await?;
        moved.push(table.clone());
    }
    for function in &functions {
        let exists: Option<(i32,)> = sqlx::query_as(
            "SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE n.nspname = $1 AND p.proname = $2 AND p.pronargs = 0",
        )
        .bind(from)
        .bind(function)
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_some() {
            let sql =
                format!("ALTER FUNCTION {}.{}() SET SCHEMA {}", quote(from), quote(function), quote(schema));
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *tx).await?;
            moved.push(format!("{function}()"));
        }
    }
    tx.commit().await?;
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_comes_from_the_search_path_option() {
        assert_eq!(schema_in_options(None), None);
        assert_eq!(schema_in_options(Some("-c geqo=off")), None);
        assert_eq!(schema_in_options(Some("-c search_path=t_1 -c geqo=off")), Some("t_1".into()));
        assert_eq!(schema_in_options(Some("--search_path=a,public")), Some("a".into()));
        assert_eq!(quote("we\"ird"), "\"we\"\"ird\"");
    }

    #[test]
    fn the_migrations_objects_are_found_in_their_sql() {
        let (tables, functions) = our_objects(&crate::store::POSTGRES_MIGRATIONS);
        for t in ["_sqlx_migrations", "api_keys", "jobs", "job_files", "job_file_chunks", "api_key_revision"]
        {
            assert!(tables.contains(&t.to_string()), "{t} in {tables:?}");
        }
        assert!(functions.contains(&"bump_api_key_revision".to_string()), "{functions:?}");
    }
}
