//! The storage contract on SQLite: every case gets its own database file in a fresh temporary
//! directory, removed after the case passed (kept after a failure, for a look).

use lienhoan_store::contract::Fresh;
use lienhoan_store_sql::SqlStore;
use lienhoan_store_sqlite::SqliteEngine;

/// A migrated database file in a new temporary directory, and the directory.
async fn migrated(case: &str) -> (std::path::PathBuf, SqliteEngine) {
    let dir = std::env::temp_dir().join(format!(
        "lienhoan-contract-{case}-{}",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join("lienhoan.db");
    eprintln!("contract case {case}: database {}", path.display());
    let engine = SqliteEngine::open(path.to_str().expect("a UTF-8 temporary path"))
        .await
        .expect("the database opens");
    lienhoan_store_sql::migrate(&engine)
        .await
        .expect("the schema migrates");
    (dir, engine)
}

async fn fresh(case: &'static str) -> Option<Fresh> {
    let (dir, engine) = migrated(case).await;
    Some(
        Fresh::new(SqlStore::new(Box::new(engine))).with_teardown(async move {
            let _ = std::fs::remove_dir_all(&dir);
        }),
    )
}

lienhoan_store::contract_tests!(fresh);

/// A database that a newer binary migrated is refused: that binary's tables (such as the
/// incident totals of migration 0011 beside the counters) would go stale under this one's
/// writes.
#[tokio::test]
async fn a_database_migrated_by_a_newer_binary_is_refused() {
    use lienhoan_store_sql::engine::Engine;
    let (dir, engine) = migrated("newer-schema").await;
    assert_eq!(
        lienhoan_store_sql::migrate(&engine).await.ok(),
        Some(0),
        "migrating again applies nothing"
    );
    let mut tx = engine.write().await.expect("a write");
    tx.execute(
        "INSERT INTO schema_migrations (version, name) VALUES (1000000, 'from the future')",
        vec![],
    )
    .await
    .expect("the row is written");
    tx.commit().await.expect("the write commits");
    let refused = lienhoan_store_sql::migrate(&engine)
        .await
        .expect_err("a newer schema is refused");
    assert!(
        refused.to_string().contains("version 1000000"),
        "the refusal names the version: {refused}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
