//! Opening the configured database: a SQLite file (the default) or a PostgreSQL URL.

use std::sync::Arc;

use anyhow::Context;
use lienhoan_store::Store;
use lienhoan_store_postgres::PostgresEngine;
use lienhoan_store_sql::SqlStore;
use lienhoan_store_sql::engine::Engine;
use lienhoan_store_sqlite::SqliteEngine;

pub fn is_postgres(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

async fn engine(location: &str) -> anyhow::Result<Box<dyn Engine>> {
    Ok(if is_postgres(location) {
        Box::new(
            PostgresEngine::open(location)
                .await
                .context("cannot connect to PostgreSQL")?,
        )
    } else {
        Box::new(
            SqliteEngine::open(location)
                .await
                .with_context(|| format!("cannot open the SQLite database {location}"))?,
        )
    })
}

/// Opens the database and brings its schema up to date.
pub async fn open(location: &str) -> anyhow::Result<Arc<dyn Store>> {
    let engine = engine(location).await?;
    let applied = lienhoan_store_sql::migrate(engine.as_ref())
        .await
        .context("cannot migrate the database")?;
    if applied > 0 {
        tracing::info!(applied, "database migrated");
    }
    Ok(Arc::new(SqlStore::new(engine)))
}

/// Migrates and reports how many migrations were applied.
pub async fn migrate(location: &str) -> anyhow::Result<usize> {
    let engine = engine(location).await?;
    Ok(lienhoan_store_sql::migrate(engine.as_ref()).await?)
}

/// Where a secret in a URL should not be shown.
pub fn display(location: &str) -> String {
    match location.split_once('@') {
        Some((credentials, rest)) if is_postgres(location) => {
            let scheme = credentials.split("://").next().unwrap_or("postgres");
            format!("{scheme}://…@{rest}")
        }
        _ => location.to_owned(),
    }
}
