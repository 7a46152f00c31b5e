//! The storage contract on PostgreSQL. Runs when `LIENHOAN_TEST_POSTGRES_URL` names a server
//! (e.g. `postgres://postgres@127.0.0.1:5432/test`); each case creates its own database there
//! and drops it after the case passed (a failed case keeps it, for a look). Without the
//! variable every case says so on stderr and passes, unless `LIENHOAN_REQUIRE_POSTGRES` is set
//! (as CI should), in which case a missing server is a failure.

use lienhoan_store::contract::Fresh;
use lienhoan_store_postgres::PostgresEngine;
use lienhoan_store_sql::SqlStore;
use sqlx::Connection;

const URL_VAR: &str = "LIENHOAN_TEST_POSTGRES_URL";
const REQUIRE_VAR: &str = "LIENHOAN_REQUIRE_POSTGRES";

/// The same server URL with another database name; query parameters are kept.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

async fn run(url: &str, sql: String) -> Result<(), sqlx::Error> {
    let mut conn = sqlx::PgConnection::connect(url).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await?;
    conn.close().await
}

async fn fresh(case: &'static str) -> Option<Fresh> {
    let Ok(url) = std::env::var(URL_VAR) else {
        if std::env::var_os(REQUIRE_VAR).is_some() {
            panic!("{REQUIRE_VAR} is set but {URL_VAR} is not: the PostgreSQL contract cannot run");
        }
        // Written past the test harness's capture, once, so that a skipped suite is seen.
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: the PostgreSQL contract suite did not run; set {URL_VAR} \
                 (e.g. postgres://postgres@127.0.0.1:5432/test) to run it"
            );
        });
        return None;
    };
    let database = format!("lienhoan_t_{}", uuid::Uuid::now_v7().simple());
    // Concurrent CREATE DATABASE can collide on the template; try a few times.
    let mut attempt = 0;
    loop {
        match run(&url, format!("CREATE DATABASE {database}")).await {
            Ok(()) => break,
            Err(e) if attempt < 5 => {
                attempt += 1;
                eprintln!("CREATE DATABASE {database} failed ({e}); retrying");
                tokio::time::sleep(std::time::Duration::from_millis(200 * attempt)).await;
            }
            Err(e) => panic!("cannot create a test database on {URL_VAR}: {e}"),
        }
    }
    eprintln!("contract case {case}: database {database}");
    let engine = PostgresEngine::open(&with_database(&url, &database))
        .await
        .expect("the test database opens");
    lienhoan_store_sql::migrate(&engine)
        .await
        .expect("the schema migrates");
    Some(
        Fresh::new(SqlStore::new(Box::new(engine))).with_teardown(async move {
            if let Err(e) = run(
                &url,
                format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
            )
            .await
            {
                eprintln!("could not drop {database}: {e}");
            }
        }),
    )
}

lienhoan_store::contract_tests!(fresh);

#[test]
fn database_names_replace_the_path() {
    let cases = [
        (
            "postgres://postgres@127.0.0.1:5432/test",
            "postgres://postgres@127.0.0.1:5432/x",
        ),
        (
            "postgres://u:p@h/test?sslmode=disable",
            "postgres://u:p@h/x?sslmode=disable",
        ),
        ("postgres://h:5432", "postgres://h:5432/x"),
        ("postgresql://h/", "postgresql://h/x"),
    ];
    for (url, expected) in cases {
        assert_eq!(with_database(url, "x"), expected, "{url}");
    }
}

/// A small insert held back until the next statement is seen by it, and its unique violation
/// is reported as the insert's, not as that statement's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_back_inserts_are_seen_and_their_errors_named() {
    use lienhoan_store_sql::engine::{Engine, EngineError, Value};
    let Ok(url) = std::env::var(URL_VAR) else {
        assert!(
            std::env::var_os(REQUIRE_VAR).is_none(),
            "{REQUIRE_VAR} is set but {URL_VAR} is not"
        );
        return;
    };
    let engine = PostgresEngine::open(&url)
        .await
        .expect("the database opens");
    let mut tx = engine.write().await.expect("a write transaction");
    tx.execute_script("CREATE TEMP TABLE held (id BIGINT PRIMARY KEY) ON COMMIT DROP")
        .await
        .unwrap();
    let row = || vec![vec![Value::Int(Some(1))]];
    tx.insert_many("held", &["id"], "", row(), &mut |_| {})
        .await
        .unwrap();
    let rows = tx
        .query("SELECT COUNT(*) AS n FROM held", vec![])
        .await
        .unwrap();
    assert_eq!(
        rows[0].int("n").unwrap(),
        1,
        "the next statement sees the row"
    );
    tx.insert_many("held", &["id"], "", row(), &mut |_| {})
        .await
        .expect("held back, not yet sent");
    match tx.execute("SELECT 1", vec![]).await {
        Err(EngineError::Other(message)) => {
            assert!(message.contains("held-back insert"), "{message}")
        }
        other => panic!("the duplicate is the held-back insert's error: {other:?}"),
    }
}

/// Inserts share commits: sixty writers, each yielding with its turn held so that the others
/// queue behind it and join its group. One in ten is dropped after writing and one in ten has
/// a statement fail; each leaves the others' writes alone, and each acknowledged write is
/// committed when it is acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inserts_share_commits_and_a_failed_one_leaves_the_rest() {
    use lienhoan_store_sql::engine::{Engine, Value};
    use std::sync::Arc;
    let Ok(url) = std::env::var(URL_VAR) else {
        assert!(
            std::env::var_os(REQUIRE_VAR).is_none(),
            "{REQUIRE_VAR} is set but {URL_VAR} is not"
        );
        return;
    };
    let engine = Arc::new(
        PostgresEngine::open(&url)
            .await
            .expect("the database opens"),
    );
    let table = format!("group_{}", uuid::Uuid::now_v7().simple());
    let mut tx = engine.write().await.unwrap();
    tx.execute_script(&format!("CREATE TABLE {table} (n BIGINT PRIMARY KEY)"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let groups_before = engine.insert_groups().await;

    let writers = (0..60).map(|n: i64| {
        let (engine, table) = (engine.clone(), table.clone());
        tokio::spawn(async move {
            let insert = format!("INSERT INTO {table} (n) VALUES ($1)");
            let mut tx = engine.insert().await.unwrap();
            tx.execute(&insert, vec![Value::Int(Some(n))])
                .await
                .unwrap();
            tokio::task::yield_now().await;
            match n % 10 {
                3 => return,
                7 => {
                    let again = tx.execute(&insert, vec![Value::Int(Some(n))]).await;
                    assert!(again.is_err(), "writer {n}: a duplicate is refused");
                    return;
                }
                _ => {}
            }
            tx.commit().await.unwrap();
            let seen = engine
                .read_once(
                    &format!("SELECT count(*) AS n FROM {table} WHERE n = $1"),
                    vec![Value::Int(Some(n))],
                )
                .await
                .unwrap();
            assert_eq!(
                seen[0].int("n").unwrap(),
                1,
                "writer {n} was acknowledged before its commit"
            );
        })
    });
    for handle in writers.collect::<Vec<_>>() {
        handle.await.unwrap();
    }

    let kept: Vec<i64> = engine
        .read_once(&format!("SELECT n FROM {table} ORDER BY n"), vec![])
        .await
        .unwrap()
        .iter()
        .map(|row| row.int("n").unwrap())
        .collect();
    let expected: Vec<i64> = (0..60).filter(|n| n % 10 != 3 && n % 10 != 7).collect();
    assert_eq!(kept, expected);
    let groups = engine.insert_groups().await - groups_before;
    assert!(
        groups < 30,
        "48 commits took {groups} groups: writers did not share commits"
    );
    let mut tx = engine.write().await.unwrap();
    tx.execute_script(&format!("DROP TABLE {table}"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
}
