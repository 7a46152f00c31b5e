//! The storage contract on SQLite: every case gets its own database file in a fresh temporary
//! directory, removed after the case passed (kept after a failure, for a look).

use lienhoan_store::contract::Fresh;
use lienhoan_store_sql::SqlStore;
use lienhoan_store_sqlite::SqliteEngine;

async fn fresh(case: &'static str) -> Option<Fresh> {
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
    Some(
        Fresh::new(SqlStore::new(Box::new(engine))).with_teardown(async move {
            let _ = std::fs::remove_dir_all(&dir);
        }),
    )
}

lienhoan_store::contract_tests!(fresh);
