//! The scale-out engine: PostgreSQL with native types. Several stateless servers may share
//! one database; migrations take an advisory lock so only one applies them.

mod pending;
mod shared;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lienhoan_store_sql::engine::{
    AuditHead, EVENT_BUFFER, Engine, EngineError, OnConflict, Row, Tx, TypeNames, Value,
};
use lienhoan_store_sql::group_commit::{GroupCommit, Turn};
use sqlx::postgres::PgListener;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{
    AssertSqlSafe, Column, Connection, Decode, PgConnection, Postgres, Row as _, SqlSafeStr,
    Transaction, TypeInfo, ValueRef,
};
use tokio::sync::broadcast;

use crate::pending::{PENDING_ROWS_MAX, PendingInserts, held_back, with};
use crate::shared::InsertConnection;

pub struct PostgresEngine {
    pool: PgPool,
    /// Inserts of this server process take turns on one connection in groups that share a
    /// commit; other processes have their own.
    inserts: Arc<GroupCommit<InsertConnection>>,
    events: broadcast::Sender<String>,
}

/// The channel every server process listens on; NOTIFY delivers on commit.
pub(crate) const EVENT_CHANNEL: &str = "lienhoan_events";

static TYPES: TypeNames = TypeNames {
    uuid: "UUID",
    date: "DATE",
    instant: "TIMESTAMPTZ",
    bool: "BOOLEAN",
    bytes: "BYTEA",
    bigint: "BIGINT",
    clustered: "",
    // An index entry holds at most 2,704 bytes; a narrative may be 20,000 characters.
    search_text_indexes: "",
    // 1,000 bytes of text and the key's 40 stay well inside an entry's 2,704.
    short_search_text_indexes: "
        ALTER TABLE incidents ADD COLUMN short_search_text TEXT GENERATED ALWAYS AS
            (CASE WHEN octet_length(search_text) <= 1000 THEN search_text END) STORED;
        DROP INDEX incidents_organisation_recent;
        DROP INDEX incidents_shared_recent;
        CREATE INDEX incidents_organisation_recent
            ON incidents (organisation_id, occurred_at DESC, id) INCLUDE (short_search_text);
        CREATE INDEX incidents_shared_recent
            ON incidents (organisation_id, occurred_at DESC, id) INCLUDE (short_search_text)
            WHERE shared;
    ",
    // The row is read only when the copy is absent; a scalar subquery, so that the planner
    // cannot turn it into a scan of every incident's text.
    searched_text: "COALESCE(i.short_search_text,
        (SELECT whole.search_text FROM incidents whole WHERE whole.id = i.id))",
    count_checked_changes: "
        CREATE FUNCTION count_checked_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE checked_changes SET made = made + 1 WHERE id = 1;
            RETURN NULL;
        END $$;
        CREATE TRIGGER admin_units_counted AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
            ON admin_units FOR EACH STATEMENT EXECUTE FUNCTION count_checked_change();
        CREATE TRIGGER organisations_counted AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
            ON organisations FOR EACH STATEMENT EXECUTE FUNCTION count_checked_change();
        CREATE TRIGGER cluster_memberships_counted AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
            ON cluster_memberships FOR EACH STATEMENT EXECUTE FUNCTION count_checked_change();",
    row_key: "id",
    day_of_month: "CAST(EXTRACT(DAY FROM k.day) AS INTEGER)",
};

/// The advisory lock a write transaction takes in its `BEGIN`'s round trip and holds until it
/// ends.
#[derive(Clone, Copy)]
pub(crate) enum Lock {
    /// Schema changes: one server process migrates.
    Migration,
    /// Writes whose checks other writes could invalidate: one at a time.
    Write,
    /// Writes that only insert new records and add to counters: side by side with each other,
    /// never beside a `Write`.
    Insert,
}

impl Lock {
    fn begin(self) -> AssertSqlSafe<String> {
        // Arbitrary constants naming the locks; `Insert` shares `Write`'s.
        const MIGRATION: i64 = 0x4c49_454e_484f_414e;
        const WRITE: i64 = 0x4c49_454e_5752_4954;
        let (function, key) = match self {
            Self::Migration => ("pg_advisory_xact_lock", MIGRATION),
            Self::Write => ("pg_advisory_xact_lock", WRITE),
            Self::Insert => ("pg_advisory_xact_lock_shared", WRITE),
        };
        AssertSqlSafe(format!("BEGIN; SELECT {function}({key})"))
    }
}

/// How long compacting a table waits for its lock (see `PostgresEngine::compact`).
const COMPACT_LOCK_TIMEOUT: &str = "1s";
/// The advisory lock a process holds while it compacts a table: arbitrary, like `Lock`'s.
pub const COMPACT_LOCK: i64 = 0x4c49_454e_434d_5054;

/// How long a request waits for a pooled connection before it is refused as busy (503 with
/// `Retry-After`). sqlx's default of 30 s outlasts the patience of most clients and proxies, so
/// requests would pile up behind an overload only to be abandoned; refusing sooner lets callers
/// back off and the queue drain.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a pooled connection may sit idle before it is pinged on its way out of the pool.
const PING_AFTER_IDLE: Duration = Duration::from_secs(10);

pub(crate) fn other(e: impl std::fmt::Display) -> EngineError {
    EngineError::Other(e.to_string())
}

pub(crate) fn engine_error(e: sqlx::Error) -> EngineError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            EngineError::Unique(db.message().to_owned())
        }
        sqlx::Error::PoolTimedOut => EngineError::Busy,
        _ => other(e),
    }
}

/// Query plans depend on table statistics, which autovacuum keeps current; without it a
/// loaded database is planned as if empty (in the benchmark a cluster review took 119 ms
/// instead of 6 ms).
async fn warn_without_autovacuum(pool: &PgPool) {
    let setting: Result<String, _> = sqlx::query_scalar("SELECT current_setting('autovacuum')")
        .fetch_one(pool)
        .await;
    if matches!(setting.as_deref(), Ok("off")) {
        tracing::warn!(
            "PostgreSQL runs with autovacuum off: run ANALYZE after large imports, or turn it on"
        );
    }
}

impl PostgresEngine {
    pub async fn open(url: &str) -> Result<Self, EngineError> {
        // Every query here is short; JIT compilation, which the planner starts on cost
        // estimates alone, took 30 ms of a 4 ms incident list in the benchmark. Statements
        // are planned once per connection, without their values, as SQLite plans them: each
        // is written so that its conditions name the index ranges it reads. Left to choose,
        // PostgreSQL planned a search for every execution, because the pattern's selectivity
        // moved its estimates: 1 ms of a 2 ms search at 10M, and the search served 460
        // requests a second instead of 807.
        let options = PgConnectOptions::from_str(url)
            .map_err(other)?
            .options([("jit", "off"), ("plan_cache_mode", "force_generic_plan")]);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // A connection handed out again within moments is alive: pinging it on every
            // acquire cost each read a round trip of its own. One that sat idle may have been
            // dropped by the server or a proxy meanwhile, so it is still pinged first.
            .test_before_acquire(false)
            .before_acquire(|connection, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_AFTER_IDLE {
                        connection.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await
            .map_err(other)?;
        warn_without_autovacuum(&pool).await;
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let mut listener = PgListener::connect_with(&pool).await.map_err(other)?;
        listener.listen(EVENT_CHANNEL).await.map_err(other)?;
        let forward = events.clone();
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(notification) => {
                        let _ = forward.send(notification.payload().to_owned());
                    }
                    // The listener reconnects on the next call; events sent meanwhile are lost,
                    // which live alerts tolerate (lists reload from the database).
                    Err(e) => {
                        tracing::warn!(error = %e, "live events: listener interrupted");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(Self {
            inserts: GroupCommit::new(InsertConnection::new(pool.clone())),
            pool,
            events,
        })
    }

    async fn begin(&self, statement: impl SqlSafeStr) -> Result<PgTx, EngineError> {
        Ok(PgTx::on(Lease::Own(
            self.pool
                .begin_with(statement)
                .await
                .map_err(engine_error)?,
        )))
    }

    /// How many groups of inserts this process has begun, each ended by one commit.
    pub async fn insert_groups(&self) -> u64 {
        self.inserts.batches().await
    }

    /// How many inserts of this process wait for their turn in a group.
    pub fn inserts_waiting(&self) -> usize {
        self.inserts.queued()
    }

    async fn locked(&self, lock: Lock) -> Result<Box<dyn Tx>, EngineError> {
        Ok(Box::new(self.begin(lock.begin()).await?))
    }
}

#[async_trait]
impl Engine for PostgresEngine {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn type_names(&self) -> &'static TypeNames {
        &TYPES
    }

    /// Writes run one at a time, as on SQLite, so that every check a write makes (overlapping
    /// memberships, the next version number) still holds when it commits.
    async fn write(&self) -> Result<Box<dyn Tx>, EngineError> {
        self.locked(Lock::Write).await
    }

    /// Inserts need no more than their own rows' checks, the counters' atomic upserts and the
    /// audit chain's head row, which still orders their entries; so they run side by side
    /// with other processes' inserts, and in this process share commits.
    async fn insert(&self) -> Result<Box<dyn Tx>, EngineError> {
        Ok(Box::new(PgTx::on(Lease::Shared(
            self.inserts.turn().await?,
        ))))
    }

    /// Reads the check on a pooled connection while the insert waits for its turn, with the
    /// count of changes to what checks read (kept by triggers, see migration 0008): if the
    /// group's count is the same, no such change committed between the read and the group's
    /// start, and none can until it commits (they are exclusive writes), so the check still
    /// holds. The group's connection, which every insert of this process waits for, then runs
    /// one statement fewer for it. A check that found nothing is read again in the turn, so
    /// that a refusal rests on the group's view.
    async fn insert_after_check(
        &self,
        check: &str,
        params: Vec<Value>,
    ) -> Result<(Box<dyn Tx>, Vec<Row>), EngineError> {
        let ahead = fetch(
            &self.pool,
            &format!(
                "SELECT (SELECT made FROM checked_changes WHERE id = 1) AS checked_changes_made,
                        checked.*
                 FROM ({check}) checked"
            ),
            params.clone(),
        )
        .await?;
        let turn = self.inserts.turn().await?;
        let counted = turn.conn().checked_changes();
        let mut tx = PgTx::on(Lease::Shared(turn));
        let held = match ahead.first() {
            Some(row) => counted.is_some() && row.opt_int("checked_changes_made")? == counted,
            None => false,
        };
        let rows = if held {
            ahead
        } else {
            tx.query(check, params).await?
        };
        Ok((Box::new(tx), rows))
    }

    /// One snapshot for the whole transaction, so a multi-statement read (the audit chain and
    /// its head) sees a single moment.
    async fn read(&self) -> Result<Box<dyn Tx>, EngineError> {
        Ok(Box::new(
            self.begin("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .await?,
        ))
    }

    fn joins_arrays_laterally(&self) -> bool {
        true
    }

    async fn read_once(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, EngineError> {
        fetch(&self.pool, sql, params).await
    }

    /// `CLUSTER` on the primary key: PostgreSQL keeps a table's rows in the order they were
    /// written, and every upsert of a counter writes a new version of its row, so a rollup's
    /// year ends up on as many pages as it has rows (at 10M incidents, the national yearly
    /// rollup's 1,462 rows of a year on 1,043 pages). The table is locked while it is
    /// rewritten: about 2 s for the largest rollup at 10M. Every later reader and writer of
    /// the table queues behind the lock while it is awaited, so it is awaited for at most
    /// [`COMPACT_LOCK_TIMEOUT`]; a table that was busy that long is left for the next time.
    /// Server processes that start or run their daily maintenance together compact one at a
    /// time, and the others skip.
    async fn compact(&self, table: &str) -> Result<(), EngineError> {
        let index: String = sqlx::query_scalar(
            "SELECT i.relname::text FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
             WHERE x.indrelid = $1::text::regclass AND x.indisprimary",
        )
        .bind(table)
        .fetch_one(&self.pool)
        .await
        .map_err(engine_error)?;
        let mut tx = self.pool.begin().await.map_err(engine_error)?;
        let ours: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(COMPACT_LOCK)
            .fetch_one(&mut *tx)
            .await
            .map_err(engine_error)?;
        if !ours {
            // Another server process is compacting: once is enough.
            return Ok(());
        }
        sqlx::raw_sql(AssertSqlSafe(format!(
            "SET LOCAL lock_timeout = '{COMPACT_LOCK_TIMEOUT}'; CLUSTER {table} USING {index}"
        )))
        .execute(&mut *tx)
        .await
        .map_err(engine_error)?;
        tx.commit().await.map_err(engine_error)?;
        // Outside the rewrite's transaction, so that the table is not locked meanwhile.
        sqlx::raw_sql(AssertSqlSafe(format!("ANALYZE {table}")))
            .execute(&self.pool)
            .await
            .map_err(engine_error)?;
        Ok(())
    }

    async fn migration(&self) -> Result<Box<dyn Tx>, EngineError> {
        self.locked(Lock::Migration).await
    }

    fn subscribe(&self) -> broadcast::Receiver<String> {
        self.events.subscribe()
    }
}

/// The rows of one statement, on a pooled connection or in a transaction.
async fn fetch<'c, E>(executor: E, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, EngineError>
where
    E: sqlx::Executor<'c, Database = Postgres>,
{
    fetch_with(executor, sql.to_owned(), arguments(params)?).await
}

async fn fetch_with<'c, E>(
    executor: E,
    sql: String,
    args: PgArguments,
) -> Result<Vec<Row>, EngineError>
where
    E: sqlx::Executor<'c, Database = Postgres>,
{
    let rows = sqlx::query_with(AssertSqlSafe(sql), args)
        .fetch_all(executor)
        .await
        .map_err(engine_error)?;
    decode(rows)
}

/// The connection a transaction runs on.
enum Lease {
    /// A transaction of its own.
    Own(Transaction<'static, Postgres>),
    /// A turn in a group that shares a commit.
    Shared(Turn<InsertConnection>),
}

struct PgTx {
    lease: Lease,
    pending: PendingInserts,
    /// A statement failed: PostgreSQL has aborted the transaction (or the writer's part of a
    /// group) and would answer its `COMMIT` by rolling back, so the commit is refused.
    failed: bool,
    /// Its inserts go in a statement of its own (see `Tx::settle_alone`).
    alone: bool,
}

impl PgTx {
    fn on(lease: Lease) -> Self {
        Self {
            lease,
            pending: PendingInserts::default(),
            failed: false,
            alone: false,
        }
    }

    fn noted<T>(&mut self, done: Result<T, EngineError>) -> Result<T, EngineError> {
        self.failed |= done.is_err();
        done
    }

    async fn rows(&mut self, sql: String, args: PgArguments) -> Result<Vec<Row>, EngineError> {
        let done = async { fetch_with(self.conn().await?, sql, args).await }.await;
        self.noted(done)
    }

    async fn conn(&mut self) -> Result<&mut PgConnection, EngineError> {
        match &mut self.lease {
            Lease::Own(tx) => Ok(tx),
            Lease::Shared(turn) => turn.conn_mut().ready().await,
        }
    }

    async fn flush(&mut self) -> Result<(), EngineError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        self.send(pending).await.map_err(held_back)
    }

    async fn send(&mut self, inserts: PendingInserts) -> Result<(), EngineError> {
        let done = async { send_inserts(self.conn().await?, inserts).await }.await;
        self.noted(done)
    }

    /// Hands the inserts of a writer in a group that sent no statement to the group, to go
    /// with the other writers' (see `InsertConnection::hold`).
    fn hold_in_group(&mut self) -> Result<(), EngineError> {
        if let Lease::Shared(turn) = &mut self.lease
            && !self.alone
            && !turn.conn().writer_sent()
        {
            turn.conn_mut().hold(std::mem::take(&mut self.pending))?;
        }
        Ok(())
    }
}

/// Sends inserts and events, merged into one statement (see [`PendingInserts`]).
pub(crate) async fn send_inserts(
    conn: &mut PgConnection,
    inserts: PendingInserts,
) -> Result<(), EngineError> {
    let (sql, args) = inserts.statement(EVENT_CHANNEL)?;
    sqlx::query_with(AssertSqlSafe(sql), args)
        .execute(conn)
        .await
        .map(|_| ())
        .map_err(engine_error)
}

fn arguments(params: Vec<Value>) -> Result<PgArguments, EngineError> {
    use sqlx::Arguments;
    let mut args = PgArguments::default();
    for value in params {
        let added = match value {
            Value::Bool(v) => args.add(v),
            Value::Int(v) => args.add(v),
            Value::Text(v) => args.add(v),
            Value::Bytes(v) => args.add(v),
            Value::Uuid(v) => args.add(v),
            Value::Date(v) => args.add(v),
            Value::Instant(v) => args.add(v),
        };
        added.map_err(other)?;
    }
    Ok(args)
}

/// Rows per `insert_many` statement: enough to amortise the round trip, few enough to report
/// progress on a long import.
const ROWS_PER_STATEMENT: usize = 10_000;

fn decoded<'r, T: Decode<'r, Postgres>>(
    raw: sqlx::postgres::PgValueRef<'r>,
) -> Result<T, sqlx::error::BoxDynError> {
    T::decode(raw)
}

/// Decodes from the raw value the row already holds: asking the row by type would look the
/// column up again, check the type's compatibility and copy its name for each value (a fifth
/// of a cluster review's samples in the server under load). The types are matched here.
fn decode_value(row: &PgRow, i: usize) -> Result<Value, EngineError> {
    let raw = row.try_get_raw(i).map_err(other)?;
    if raw.is_null() {
        return Ok(Value::Text(None));
    }
    let info = raw.type_info().into_owned();
    let kind = info.name();
    let error = |e: sqlx::error::BoxDynError| other(format!("column {i} ({kind}): {e}"));
    Ok(match kind {
        "UUID" => Value::Uuid(Some(decoded(raw).map_err(error)?)),
        "DATE" => Value::Date(Some(decoded(raw).map_err(error)?)),
        "TIMESTAMPTZ" => Value::Instant(Some(decoded(raw).map_err(error)?)),
        "BOOL" => Value::Bool(Some(decoded(raw).map_err(error)?)),
        "INT8" => Value::Int(Some(decoded(raw).map_err(error)?)),
        "INT4" => Value::Int(Some(decoded::<i32>(raw).map_err(error)?.into())),
        "INT2" => Value::Int(Some(decoded::<i16>(raw).map_err(error)?.into())),
        "BYTEA" => Value::Bytes(Some(decoded(raw).map_err(error)?)),
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "UNKNOWN" => {
            Value::Text(Some(decoded(raw).map_err(error)?))
        }
        _ => return Err(other(format!("column {i}: type {kind} is not read here"))),
    })
}

fn decode(rows: Vec<PgRow>) -> Result<Vec<Row>, EngineError> {
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let columns: Arc<[String]> = first
        .columns()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    rows.iter()
        .map(|row| {
            Ok(Row {
                columns: columns.clone(),
                values: (0..columns.len())
                    .map(|i| decode_value(row, i))
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect()
}

#[async_trait]
impl Tx for PgTx {
    async fn execute(&mut self, sql: &str, params: Vec<Value>) -> Result<u64, EngineError> {
        self.flush().await?;
        let args = arguments(params)?;
        let done = async {
            sqlx::query_with(AssertSqlSafe(sql.to_owned()), args)
                .execute(self.conn().await?)
                .await
                .map(|done| done.rows_affected())
                .map_err(engine_error)
        }
        .await;
        self.noted(done)
    }

    async fn query(&mut self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, EngineError> {
        self.flush().await?;
        self.rows(sql.to_owned(), arguments(params)?).await
    }

    /// The held-back inserts go as the query's data-modifying `WITH` parts.
    async fn query_beside_inserts(
        &mut self,
        sql: &str,
        params: Vec<Value>,
    ) -> Result<Vec<Row>, EngineError> {
        if self.pending.is_empty()
            || self.pending.has_events()
            || self.pending.named_in(sql)
            || sql.trim_start().starts_with("WITH")
        {
            return self.query(sql, params).await;
        }
        let mut args = arguments(params)?;
        let parts = std::mem::take(&mut self.pending).parts(&mut args);
        let parts = self.noted(parts)?;
        let sql = format!("{} {sql}", with(&parts));
        self.rows(sql, args).await.map_err(held_back)
    }

    /// One `INSERT … SELECT FROM UNNEST` of a typed array per column: the statement is the same
    /// whatever the number of rows, so it is parsed once per connection, and a chunk of rows
    /// travels as a few arrays instead of thousands of parameters. An insert that fits in one
    /// statement waits for the transaction's next statement, and inserts waiting together go
    /// as one (see [`PendingInserts`]).
    async fn insert_many(
        &mut self,
        table: &str,
        columns: &[&str],
        conflict: OnConflict<'_>,
        rows: Vec<Vec<Value>>,
        after_each: &mut (dyn FnMut(usize) + Send),
    ) -> Result<(), EngineError> {
        if rows.is_empty() {
            return Ok(());
        }
        if rows.len() + self.pending.rows_for(table) <= PENDING_ROWS_MAX {
            let count = rows.len();
            let pushed = self.pending.push(table, columns, conflict, rows);
            self.noted(pushed)?;
            after_each(count);
            return Ok(());
        }
        self.flush().await?;
        let mut written = 0;
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<Vec<Value>> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
            written += chunk.len();
            let mut one = PendingInserts::default();
            one.push(table, columns, conflict, chunk)?;
            self.send(one).await?;
            after_each(written);
        }
        Ok(())
    }

    async fn execute_script(&mut self, sql: &str) -> Result<(), EngineError> {
        self.flush().await?;
        let done = async {
            sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
                .execute(self.conn().await?)
                .await
                .map(|_| ())
                .map_err(engine_error)
        }
        .await;
        self.noted(done)
    }

    /// The event goes with the held-back inserts (see [`PendingInserts`]).
    async fn publish(&mut self, payload: String) -> Result<(), EngineError> {
        self.pending.publish(payload);
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<(), EngineError> {
        if self.failed {
            return Err(EngineError::Other(
                "a statement of this transaction failed, so none of it is committed".into(),
            ));
        }
        self.hold_in_group()?;
        self.flush().await?;
        match self.lease {
            Lease::Own(tx) => tx.commit().await.map_err(engine_error),
            Lease::Shared(turn) => turn.commit().await,
        }
    }

    fn settle_alone(&mut self) {
        self.alone = true;
    }

    /// A group holds the head from its `BEGIN` (see `shared`).
    fn known_audit_head(&mut self) -> Option<&mut AuditHead> {
        match &mut self.lease {
            Lease::Own(_) => None,
            Lease::Shared(turn) => turn.conn_mut().writer_head(),
        }
    }
}
