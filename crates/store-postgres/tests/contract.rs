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

/// A new database for one case, migrated: its URL, and the server's. `None` when no server is
/// named (see the module's comment).
async fn new_database(case: &'static str) -> Option<(String, String)> {
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
    let database_url = with_database(&url, &database);
    let engine = open(&database_url).await;
    lienhoan_store_sql::migrate(&engine)
        .await
        .expect("the schema migrates");
    Some((database_url, url))
}

async fn drop_database(url: &str, database_url: &str) {
    let database = database_url
        .rsplit('/')
        .next()
        .and_then(|tail| tail.split('?').next())
        .unwrap_or_default();
    if let Err(e) = run(
        url,
        format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
    )
    .await
    {
        eprintln!("could not drop {database}: {e}");
    }
}

/// A new database (see [`new_database`]) with `schema` run in it, and an engine on it: the
/// engine, the database's URL and the server's.
async fn engine_with(
    case: &'static str,
    schema: &str,
) -> Option<(std::sync::Arc<PostgresEngine>, String, String)> {
    let (database_url, url) = new_database(case).await?;
    run(&database_url, schema.to_owned())
        .await
        .expect("the schema is created");
    Some((
        std::sync::Arc::new(open(&database_url).await),
        database_url,
        url,
    ))
}

/// An engine on a test database.
async fn open(database_url: &str) -> PostgresEngine {
    PostgresEngine::open(database_url)
        .await
        .expect("the test database opens")
}

async fn fresh(case: &'static str) -> Option<Fresh> {
    let (database_url, url) = new_database(case).await?;
    let engine = open(&database_url).await;
    Some(
        Fresh::new(SqlStore::new(Box::new(engine))).with_teardown(async move {
            drop_database(&url, &database_url).await;
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
    use lienhoan_store_sql::engine::{Engine, EngineError, OnConflict, Value};
    let Some((database_url, url)) = new_database("held_back_inserts").await else {
        return;
    };
    let engine = open(&database_url).await;
    let mut tx = engine.write().await.expect("a write transaction");
    tx.execute_script("CREATE TEMP TABLE held (id BIGINT PRIMARY KEY) ON COMMIT DROP")
        .await
        .unwrap();
    let row = || vec![vec![Value::Int(Some(1))]];
    tx.insert_many("held", &["id"], OnConflict::Refuse, row(), &mut |_| {})
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
    tx.insert_many("held", &["id"], OnConflict::Refuse, row(), &mut |_| {})
        .await
        .expect("held back, not yet sent");
    match tx.execute("SELECT 1", vec![]).await {
        Err(EngineError::Other(message)) => {
            assert!(message.contains("held-back insert"), "{message}")
        }
        other => panic!("the duplicate is the held-back insert's error: {other:?}"),
    }
    drop(tx);
    drop(engine);
    drop_database(&url, &database_url).await;
}

/// Inserts share commits: sixty writers, each yielding with its turn held so that the others
/// queue behind it and join its group. Each moves the audit chain's head, which the group
/// holds and knows. One in ten is dropped after writing, one in ten has a statement fail and
/// is refused its commit, and one in ten holds back a row that fails when its part ends; each
/// leaves the others' writes, and the head as they moved it, alone. Each acknowledged write is
/// committed when it is acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inserts_share_commits_and_a_failed_one_leaves_the_rest() {
    use lienhoan_store_sql::engine::{AuditHead, Engine, OnConflict, Value};
    let table = "group_writes";
    let schema = format!("CREATE TABLE {table} (n BIGINT PRIMARY KEY, seq BIGINT NOT NULL UNIQUE)");
    let Some((engine, database_url, url)) = engine_with("inserts_share_commits", &schema).await
    else {
        return;
    };
    let head_row = "SELECT seq, hash FROM audit_head WHERE id = 1";
    let first_seq = engine.read_once(head_row, vec![]).await.unwrap()[0]
        .int("seq")
        .unwrap();
    let groups_before = engine.insert_groups().await;

    let writers = (0..60).map(|n: i64| {
        let engine = engine.clone();
        tokio::spawn(async move {
            let insert = format!("INSERT INTO {table} (n, seq) VALUES ($1, $2)");
            let mut tx = engine.insert().await.unwrap();
            let head = tx.known_audit_head().expect("a group knows the head");
            let seq = head.seq + 1;
            let hash = format!("writer {n}");
            *head = AuditHead {
                seq,
                hash: hash.clone(),
            };
            tx.execute(&insert, vec![Value::Int(Some(n)), Value::Int(Some(seq))])
                .await
                .unwrap();
            tx.insert_many(
                "audit_head",
                &["id", "seq", "hash"],
                OnConflict::Replace { key: &["id"] },
                vec![vec![1i64.into(), seq.into(), hash.into()]],
                &mut |_| {},
            )
            .await
            .unwrap();
            tokio::task::yield_now().await;
            match n % 10 {
                3 => return,
                5 => {
                    tx.insert_many(
                        table,
                        &["n", "seq"],
                        OnConflict::Refuse,
                        vec![vec![n.into(), (-n).into()]],
                        &mut |_| {},
                    )
                    .await
                    .expect("held back, not yet sent");
                    assert!(
                        tx.commit().await.is_err(),
                        "writer {n}: a held-back row that fails fails the commit"
                    );
                    return;
                }
                7 => {
                    let again = tx
                        .execute(&insert, vec![Value::Int(Some(n)), Value::Int(Some(-n))])
                        .await;
                    assert!(again.is_err(), "writer {n}: a duplicate is refused");
                    assert!(
                        tx.commit().await.is_err(),
                        "writer {n}: a transaction with a failed statement does not commit"
                    );
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

    let kept = engine
        .read_once(&format!("SELECT n, seq FROM {table} ORDER BY seq"), vec![])
        .await
        .unwrap();
    let mut numbers: Vec<i64> = kept.iter().map(|row| row.int("n").unwrap()).collect();
    numbers.sort();
    let expected: Vec<i64> = (0..60).filter(|n| ![3, 5, 7].contains(&(n % 10))).collect();
    assert_eq!(numbers, expected);
    let seqs: Vec<i64> = kept.iter().map(|row| row.int("seq").unwrap()).collect();
    let count = expected.len() as i64;
    assert_eq!(
        seqs,
        (first_seq + 1..=first_seq + count).collect::<Vec<_>>(),
        "each kept writer moved the head on from the one before it"
    );
    let head = engine.read_once(head_row, vec![]).await.unwrap();
    let last = kept.last().unwrap().int("n").unwrap();
    assert_eq!(head[0].int("seq").unwrap(), first_seq + count);
    assert_eq!(head[0].text("hash").unwrap(), format!("writer {last}"));
    let groups = engine.insert_groups().await - groups_before;
    assert!(
        groups < 30,
        "{count} commits took {groups} groups: writers did not share commits"
    );
    drop(engine);
    drop_database(&url, &database_url).await;
}

/// Writers that run no statement of their own hand their rows and events to their group,
/// which sends them as one statement before it commits. If that statement fails, no writer of
/// the group is told its write was kept, and none of it is; the next group is not touched.
/// Here the first writer holds its turn until two more wait behind it, so that the three
/// share a group, and the third holds back a row whose key is taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_whose_held_rows_fail_keeps_none_of_them() {
    use lienhoan_store_sql::engine::{Engine, EngineError, OnConflict, Value};
    use std::time::Duration;
    let table = "group_rows";
    let schema =
        format!("CREATE TABLE {table} (n BIGINT PRIMARY KEY); INSERT INTO {table} VALUES (1000)");
    let Some((engine, database_url, url)) = engine_with("held_rows_fail", &schema).await else {
        return;
    };
    let mut events = engine.subscribe();
    let write = |n: i64| {
        let engine = engine.clone();
        async move {
            let mut tx = engine.insert().await.unwrap();
            tx.insert_many(
                table,
                &["n"],
                OnConflict::Refuse,
                vec![vec![Value::Int(Some(n))]],
                &mut |_| {},
            )
            .await
            .unwrap();
            tx.publish(format!("row {n}")).await.unwrap();
            tx
        }
    };

    let first = write(1).await;
    let others: Vec<_> = [2, 1000]
        .into_iter()
        .map(|n| {
            let write = write(n);
            tokio::spawn(async move { write.await.commit().await })
        })
        .collect();
    while engine.inserts_waiting() < 2 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut others = others.into_iter();
    let first = first.commit().await;
    let outcomes = [
        (1, first),
        (2, others.next().unwrap().await.unwrap()),
        (1000, others.next().unwrap().await.unwrap()),
    ];
    for (n, outcome) in outcomes {
        match outcome {
            Err(EngineError::WithGroup(_)) => {}
            other => panic!("writer {n}: {other:?}, though its group's statement failed"),
        }
    }
    let kept = || async {
        let rows = engine
            .read_once(&format!("SELECT n FROM {table} ORDER BY n"), vec![])
            .await
            .unwrap();
        rows.iter().map(|r| r.int("n").unwrap()).collect::<Vec<_>>()
    };
    assert_eq!(
        kept().await,
        vec![1000],
        "nothing of the failed group was kept"
    );

    write(3)
        .await
        .commit()
        .await
        .expect("the next group commits");
    assert_eq!(kept().await, vec![3, 1000]);
    // Events are delivered in the order of their commits, so the first one is the only one
    // that committed.
    let event = tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("an event within 10 s")
        .unwrap();
    assert_eq!(event, "row 3");
    drop(engine);
    drop_database(&url, &database_url).await;
}

/// An incident whose rows fail in its group's statement fails on its own: tried again alone,
/// it gets its own error, and the incidents of its group, rolled back with it, are tried again
/// and kept. Here a constraint refuses one place name, among 24 incidents recorded at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_that_fails_in_its_group_fails_alone() {
    use lienhoan_domain::access::Role;
    use lienhoan_store::contract::{
        audit_total, import_incident_geo, incident_input, organisation, user, vn_time,
    };
    use lienhoan_store::{AuditStore, IncidentStore, StoreError};
    use std::sync::Arc;
    let Some((database_url, url)) = new_database("fails_alone").await else {
        return;
    };
    let store = Arc::new(SqlStore::new(Box::new(open(&database_url).await)));
    let g = import_incident_geo(store.as_ref()).await;
    let org = organisation(store.as_ref(), "Công an huyện Sơn Dương", &g.geo.son_duong).await;
    let admin = user(store.as_ref(), "quan.tri", None, Role::Admin).await;
    run(
        &database_url,
        "ALTER TABLE incidents ADD CONSTRAINT refuses_poison CHECK (place <> 'poison')".into(),
    )
    .await
    .unwrap();
    let before = audit_total(store.as_ref()).await;
    let day = time::macros::date!(2020 - 03 - 01);
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let (store, admin) = (store.clone(), admin.clone());
            let mut input = incident_input(&g.tu_thinh, vn_time(day, 10, 0), "criminal.theft");
            input.place = if i == 7 {
                "poison".into()
            } else {
                format!("Thôn {i}")
            };
            tokio::spawn(async move { store.create_incident(&admin, org.id, &input).await })
        })
        .collect();
    for (i, task) in tasks.into_iter().enumerate() {
        match (i, task.await.unwrap()) {
            (7, Err(StoreError::Backend(message))) => {
                assert!(message.contains("refuses_poison"), "{message}")
            }
            (7, other) => panic!("the refused incident: {other:?}"),
            (_, done) => {
                done.unwrap_or_else(|e| panic!("incident {i} failed with the refused one: {e:?}"));
            }
        }
    }
    let total = audit_total(store.as_ref()).await;
    assert_eq!(total, before + 23, "one entry for each incident kept");
    assert_eq!(store.verify_audit(&|_| {}).await.unwrap(), Ok(total as u64));
    drop(store);
    drop_database(&url, &database_url).await;
}

/// A writer whose first statement sends the rows its group holds, and which is dropped before
/// that is done (its client went away), takes the group with it: the writers whose rows were
/// held are not told they were kept, unless they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_dropped_while_sending_its_groups_rows_loses_none() {
    use lienhoan_store_sql::engine::{Engine, OnConflict, Value};
    use std::time::Duration;
    let table = "sent_rows";
    let schema = format!("CREATE TABLE {table} (n BIGINT PRIMARY KEY)");
    let Some((engine, database_url, url)) = engine_with("dropped_sending", &schema).await else {
        return;
    };

    let mut first = engine.insert().await.unwrap();
    first
        .insert_many(
            table,
            &["n"],
            OnConflict::Refuse,
            vec![vec![Value::Int(Some(1))]],
            &mut |_| {},
        )
        .await
        .unwrap();
    let second = tokio::spawn({
        let engine = engine.clone();
        async move { engine.insert().await.unwrap() }
    });
    while engine.inserts_waiting() < 1 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The first writer keeps its part and waits for the group, which the second now holds.
    let first = tokio::spawn(first.commit());
    let mut second = second.await.unwrap();
    let cut_short = tokio::time::timeout(Duration::ZERO, second.execute("SELECT 1", vec![])).await;
    assert!(cut_short.is_err(), "the statement was dropped unfinished");
    drop(second);
    let first = first.await.unwrap();
    let kept = engine
        .read_once(&format!("SELECT count(*) AS n FROM {table}"), vec![])
        .await
        .unwrap()[0]
        .int("n")
        .unwrap();
    assert_eq!(
        (first.is_ok(), kept),
        (kept == 1, kept),
        "the first writer was told {first:?} with {kept} of its rows kept"
    );
    drop(engine);
    drop_database(&url, &database_url).await;
}

/// An insert's check, read before its turn, is kept only while nothing it reads has changed
/// since. Here the check reads an organisation, counts its reads with a sequence, and sleeps so
/// that an exclusive write can commit while it runs. With no write between, or one to a table
/// that checks do not read, the first read is kept; after the organisation is renamed, the
/// check is read again in the turn and sees the new name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_read_before_a_change_to_what_it_reads_is_read_again() {
    use lienhoan_store::contract::{import_incident_geo, organisation};
    use lienhoan_store_sql::engine::{Engine, Value};
    use std::sync::Arc;
    use std::time::Duration;
    let Some((database_url, url)) = new_database("check_ahead").await else {
        return;
    };
    let store = SqlStore::new(Box::new(open(&database_url).await));
    let g = import_incident_geo(&store).await;
    let org = organisation(&store, "Công an huyện Sơn Dương", &g.geo.son_duong).await;
    let engine = Arc::new(open(&database_url).await);
    let mut tx = engine.write().await.unwrap();
    tx.execute_script(
        "CREATE TABLE facts (id BIGINT PRIMARY KEY, v BIGINT NOT NULL);
         INSERT INTO facts VALUES (1, 1);
         CREATE SEQUENCE check_reads",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let read = |engine: Arc<PostgresEngine>| {
        tokio::spawn(async move {
            let (tx, rows) = engine
                .insert_after_check(
                    "SELECT o.name, nextval('check_reads') AS reads
                     FROM organisations o, pg_sleep(0.3) s WHERE o.id = $1",
                    vec![Value::from(org.id)],
                )
                .await
                .unwrap();
            tx.commit().await.unwrap();
            (rows[0].text("name").unwrap(), rows[0].int("reads").unwrap())
        })
    };
    let write_meanwhile = async |sql: &str, params: Vec<Value>| {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut tx = engine.write().await.unwrap();
        tx.execute(sql, params).await.unwrap();
        tx.commit().await.unwrap();
    };
    let name = org.name.clone();

    let kept = read(engine.clone()).await.unwrap();
    assert_eq!(
        kept,
        (name.clone(), 1),
        "with no write between, the read is kept"
    );

    let reading = read(engine.clone());
    write_meanwhile("UPDATE facts SET v = 2 WHERE id = 1", vec![]).await;
    assert_eq!(
        reading.await.unwrap(),
        (name, 2),
        "a write to a table that checks do not read leaves the read kept"
    );

    let reading = read(engine.clone());
    write_meanwhile(
        "UPDATE organisations SET name = 'Công an huyện Sơn Dương mới' WHERE id = $1",
        vec![Value::from(org.id)],
    )
    .await;
    assert_eq!(
        reading.await.unwrap(),
        ("Công an huyện Sơn Dương mới".to_string(), 4),
        "after a change to what it reads, the check is read again in the turn"
    );
    drop(engine);
    drop(store);
    drop_database(&url, &database_url).await;
}

/// Compacting the statistics rewrites each rollup that reports read years and months from in
/// the order of its primary key (PostgreSQL marks the index the table was clustered on). While
/// another server process compacts, it leaves the tables to that one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compacting_statistics_clusters_the_rollups() {
    use lienhoan_domain::access::Actor;
    use lienhoan_store::StatisticsStore;
    use lienhoan_store_postgres::COMPACT_LOCK;
    let Some((database_url, url)) = new_database("compact").await else {
        return;
    };
    let store = SqlStore::new(Box::new(open(&database_url).await));
    let mut other = sqlx::PgConnection::connect(&database_url).await.unwrap();
    let clustered = async |conn: &mut sqlx::PgConnection| -> Vec<String> {
        sqlx::query_scalar(
            "SELECT t.relname::text FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid
             WHERE x.indisclustered AND x.indisprimary ORDER BY 1",
        )
        .fetch_all(conn)
        .await
        .unwrap()
    };

    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(COMPACT_LOCK)
        .execute(&mut other)
        .await
        .unwrap();
    store
        .compact_statistics(&Actor::system())
        .await
        .expect("compacting beside another process is no error");
    assert!(
        clustered(&mut other).await.is_empty(),
        "another process is compacting"
    );
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(COMPACT_LOCK)
        .execute(&mut other)
        .await
        .unwrap();

    store
        .compact_statistics(&Actor::system())
        .await
        .expect("the rollups are compacted");
    assert_eq!(
        clustered(&mut other).await,
        [
            "cluster_counters_yearly",
            "incident_counters_province",
            "incident_counters_province_reporting",
            "incident_counters_province_yearly"
        ]
    );
    other.close().await.unwrap();
    drop(store);
    drop_database(&url, &database_url).await;
}

/// Two server processes on one database, each sharing commits among its own inserts, record
/// incidents into the same counter rows at once. A group that held counter rows while waiting
/// for the audit chain's head, which the other group holds until its commit, would deadlock
/// with it; each group takes the head first, and every incident counts once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_record_into_the_same_counters_at_once() {
    use lienhoan_domain::access::{Actor, Role};
    use lienhoan_domain::incident::IncidentInput;
    use lienhoan_store::contract::{
        import_incident_geo, incident_input, organisation, user, vn_time,
    };
    use lienhoan_store::{IncidentQuery, Store};
    use std::sync::Arc;
    let Some((database_url, url)) = new_database("two_servers").await else {
        return;
    };
    let mut servers: Vec<Arc<dyn Store>> = Vec::new();
    for _ in 0..2 {
        let engine = open(&database_url).await;
        servers.push(Arc::new(SqlStore::new(Box::new(engine))));
    }
    let g = import_incident_geo(servers[0].as_ref()).await;
    let (district, commune) = (g.geo.son_duong.clone(), g.tu_thinh.clone());
    let org = organisation(servers[0].as_ref(), "Công an huyện Sơn Dương", &district).await;
    let admin = user(servers[0].as_ref(), "quan.tri", None, Role::Admin).await;
    let day = time::macros::date!(2020 - 03 - 01);
    let writes: Vec<_> = (0..400)
        .map(|i| {
            let (server, admin, commune) = (servers[i % 2].clone(), admin.clone(), commune.clone());
            tokio::spawn(async move {
                // Each day's counter rows taken by one write of each server, the year's by
                // every write. A cross-border incident also sends an alert, a statement of
                // its own.
                let day = day + time::Duration::days((i / 2) as i64);
                let input = IncidentInput {
                    cross_border: i % 4 < 2,
                    ..incident_input(&commune, vn_time(day, 10, 0), "criminal.theft")
                };
                server.create_incident(&admin, org.id, &input).await
            })
        })
        .collect();
    for write in writes {
        write
            .await
            .unwrap()
            .expect("each incident is recorded, with no deadlock");
    }
    let listed = servers[1]
        .list_incidents(&Actor::system(), &IncidentQuery::default())
        .await
        .unwrap();
    assert_eq!(listed.total, 400);
    let verified = servers[1].verify_audit(&|_| {}).await.unwrap();
    assert!(verified.is_ok(), "the audit chain holds: {verified:?}");
    drop(servers);
    drop_database(&url, &database_url).await;
}

/// Two server processes on one database: a session ended through one stops being honoured by
/// the other within the memo time, and at once by the one that ended it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ended_by_another_process_ends_within_the_memo_time() {
    use lienhoan_domain::access::Role;
    use lienhoan_store::contract::{PASSWORD, user};
    use lienhoan_store::{AccountStore, Store};
    let Some((database_url, url)) = new_database("session_in_two_processes").await else {
        return;
    };
    let here = SqlStore::new(Box::new(open(&database_url).await));
    let there = SqlStore::new(Box::new(open(&database_url).await));
    let admin = user(&here, "quan.tri", None, Role::Admin).await;
    let officer = user(&here, "can.bo", None, Role::Auditor).await;
    let session = here.login("can.bo", PASSWORD, "127.0.0.1").await.unwrap();
    for store in [&here, &there] {
        assert_eq!(
            store.session_actor(&session.token).await.unwrap(),
            Some(officer.clone()),
            "{} honours the new session",
            store.engine()
        );
    }
    // `there` read the session before this instant, so its trust ends within the memo time.
    let ending = std::time::Instant::now();
    here.set_user_disabled(&admin, officer.user_id, true)
        .await
        .unwrap();
    assert_eq!(here.session_actor(&session.token).await.unwrap(), None);
    within_the_memo_time(ending, "honours the session", async || {
        there.session_actor(&session.token).await.unwrap().is_some()
    })
    .await;
    drop((here, there));
    drop_database(&url, &database_url).await;
}

/// Waits until `still` is false, failing when it was still true for a call that began once
/// the time a process trusts what it read (`MEMO_FOR`) had passed since `ending`, with a
/// second to spare for a slow machine.
async fn within_the_memo_time(
    ending: std::time::Instant,
    what: &str,
    mut still: impl AsyncFnMut() -> bool,
) {
    loop {
        let asked = ending.elapsed();
        if !still().await {
            return;
        }
        assert!(
            asked < lienhoan_store_sql::MEMO_FOR + std::time::Duration::from_secs(1),
            "the other process still {what} when asked {asked:?} after the change"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Two server processes on one database: when an organisation leaves a cluster through one,
/// the other stops showing its users the neighbours' shared incidents and the cluster's
/// figures within the memo time; the one that made the change stops at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_membership_ended_by_another_process_ends_within_the_memo_time() {
    use lienhoan_domain::access::Role;
    use lienhoan_store::contract::{
        cluster, import_incident_geo, incident_input, join, organisation, record_incident, user,
        vn_time,
    };
    use lienhoan_store::{
        ClusterStore, IncidentQuery, IncidentStore, StatisticsQuery, StatisticsStore, StoreError,
    };
    use time::macros::date;
    let Some((database_url, url)) = new_database("membership_in_two_processes").await else {
        return;
    };
    let here = SqlStore::new(Box::new(open(&database_url).await));
    let there = SqlStore::new(Box::new(open(&database_url).await));
    let g = import_incident_geo(&here).await;
    let viewer = organisation(&here, "Công an huyện Sơn Dương", &g.geo.son_duong).await;
    let neighbour = organisation(&here, "Công an huyện Na Hang", &g.geo.na_hang).await;
    let border = cluster(&here, "Cụm giáp ranh", date!(2019 - 01 - 01)).await;
    let membership = join(&here, &border, &viewer, date!(2019 - 01 - 01), None).await;
    join(&here, &border, &neighbour, date!(2019 - 01 - 01), None).await;
    let officer = user(&here, "can.bo", Some(&viewer), Role::Officer).await;
    let recorder = user(&here, "can.bo.na.hang", Some(&neighbour), Role::Officer).await;
    let shared = record_incident(
        &here,
        &recorder,
        &neighbour,
        &lienhoan_domain::incident::IncidentInput {
            cross_border: true,
            ..incident_input(
                &g.thuong_giap,
                vn_time(date!(2020 - 03 - 01), 10, 0),
                "criminal.theft",
            )
        },
    )
    .await;
    let review = StatisticsQuery {
        cluster_id: Some(border.id),
        from: date!(2020 - 01 - 01),
        to: date!(2020 - 12 - 31),
        group_by: Vec::new(),
        compare_previous_year: false,
    };
    let sees_shared = async |store: &SqlStore| {
        let page = store
            .list_incidents(
                &officer,
                &IncidentQuery {
                    limit: 50,
                    ..IncidentQuery::default()
                },
            )
            .await
            .unwrap();
        page.items.iter().any(|i| i.incident.id == shared.id)
    };
    let sees_review = async |store: &SqlStore| match store.statistics(&officer, &review).await {
        Ok(figures) => {
            assert_eq!(figures.total.incidents, 1);
            true
        }
        Err(StoreError::NotFound) => false,
        Err(e) => panic!("the review fails: {e:?}"),
    };
    for (name, store) in [("here", &here), ("there", &there)] {
        assert!(sees_shared(store).await, "{name} shows the shared incident");
        assert!(sees_review(store).await, "{name} shows the review");
    }
    let ending = std::time::Instant::now();
    here.remove_member(
        &lienhoan_domain::access::Actor::system(),
        border.id,
        membership,
    )
    .await
    .unwrap();
    assert!(
        !sees_shared(&here).await,
        "the process that made the change shows the incident"
    );
    assert!(
        !sees_review(&here).await,
        "the process that made the change shows the review"
    );
    within_the_memo_time(ending, "shows the shared incident", async || {
        sees_shared(&there).await
    })
    .await;
    within_the_memo_time(ending, "shows the review", async || {
        sees_review(&there).await
    })
    .await;
    drop((here, there));
    drop_database(&url, &database_url).await;
}
