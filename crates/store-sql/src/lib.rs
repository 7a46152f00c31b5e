//! The storage traits implemented once, in SQL that both engines understand, over the narrow
//! [`engine::Engine`] interface. Engine crates supply connections, type mapping and locking.

pub mod engine;
pub mod group_commit;
mod memo;
mod migrations;

mod accounts;
mod audit;
pub mod bulk;
mod clusters;
mod counters;
mod events;
mod exchange;
mod geo;
mod incidents;
mod names;
mod organisations;
mod password;
mod register;
mod statistics;

use async_trait::async_trait;
use engine::{Engine, EngineError};
use lienhoan_domain::access::Actor;
use lienhoan_store::{Store, StoreError, StoreResult};
pub use memo::MEMO_FOR;
pub use migrations::migrate;
use time::OffsetDateTime;
use uuid::Uuid;

use incidents::VisiblePart;
use memo::Memo;
use statistics::Members;
use std::sync::Arc;

pub struct SqlStore {
    engine: Box<dyn Engine>,
    /// Sessions by token hash, with their expiry.
    sessions: Memo<String, (Actor, OffsetDateTime)>,
    /// What an organisation's users may see of the incidents, by organisation.
    visible_parts: Memo<Uuid, Arc<[VisiblePart]>>,
    /// A cluster's members, by cluster.
    cluster_members: Memo<Uuid, Members>,
    /// The names organisations and administrative units are shown with.
    names: names::NameMemos,
}

impl SqlStore {
    /// Wraps an engine whose schema is already migrated (see [`migrate`]).
    pub fn new(engine: Box<dyn Engine>) -> Self {
        Self {
            engine,
            sessions: Memo::default(),
            visible_parts: Memo::default(),
            cluster_members: Memo::default(),
            names: names::NameMemos::default(),
        }
    }

    /// After a commit that ended a user's sessions (see [`commit_then`]).
    fn forget_sessions_of(&self, user_id: Uuid) {
        self.sessions.forget(|(actor, _)| actor.user_id != user_id);
    }

    /// After a commit that changed a cluster or its memberships (see [`commit_then`]).
    fn forget_memberships(&self) {
        self.visible_parts.forget(|_| false);
        self.cluster_members.forget(|_| false);
    }

    pub fn engine_ref(&self) -> &dyn Engine {
        self.engine.as_ref()
    }
}

/// Commits `tx`, then runs `forget` (a memo's forgetting): also when the commit's outcome is
/// unknown, and when the request is dropped while it commits, since the commit may still land.
/// In that last case a read between the forgetting and the commit's landing may remember the
/// old rows for up to [`MEMO_FOR`], as other processes do; the change was never acknowledged.
async fn commit_then(tx: Box<dyn engine::Tx>, forget: impl FnOnce()) -> StoreResult<()> {
    struct OnDrop<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for OnDrop<F> {
        fn drop(&mut self) {
            if let Some(forget) = self.0.take() {
                forget();
            }
        }
    }
    let _forget = OnDrop(Some(forget));
    Ok(tx.commit().await?)
}

/// How many times an insert rolled back with its group is tried again on its own. Alone, it
/// can still meet another group's failure: the rows that writers before it left to the group
/// are sent before its own.
const ALONE_ATTEMPTS: usize = 3;

/// Runs an insert, and if it was rolled back with its group for a failure that need not be its
/// own, again settling alone (see `Tx::settle_alone`): the group's other writes then go in,
/// and a write that fails fails on its own, with its own error.
pub(crate) async fn insert_retrying<T, F>(attempt: impl Fn(bool) -> F) -> StoreResult<T>
where
    F: Future<Output = StoreResult<T>>,
{
    let mut done = attempt(false).await;
    for _ in 0..ALONE_ATTEMPTS {
        if !matches!(done, Err(StoreError::Interrupted(_))) {
            break;
        }
        done = attempt(true).await;
    }
    done
}

impl From<EngineError> for StoreError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Busy => StoreError::Busy,
            EngineError::WithGroup(message) => StoreError::Interrupted(message),
            e => StoreError::Backend(e.to_string()),
        }
    }
}

fn now() -> OffsetDateTime {
    lienhoan_domain::audit::storable_instant(OffsetDateTime::now_utc())
}

fn require(allowed: bool) -> StoreResult<()> {
    if allowed {
        Ok(())
    } else {
        Err(StoreError::Forbidden)
    }
}

/// The organisation to scope by, or `None` for everything: the SQL pattern is
/// `($n IS NULL OR <row belongs to $n>)`.
fn scope_param(scope: lienhoan_domain::access::Scope) -> Option<uuid::Uuid> {
    match scope {
        lienhoan_domain::access::Scope::All => None,
        lienhoan_domain::access::Scope::Organisation(id) => Some(id),
    }
}

/// A `LIKE` pattern matching folded text anywhere, with the wildcards of the query escaped.
fn contains_pattern(text: &str) -> Option<String> {
    let folded = lienhoan_domain::text::fold(text);
    if folded.is_empty() {
        return None;
    }
    let escaped = folded
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Some(format!("%{escaped}%"))
}

/// A condition with its parameter as `$$`, or with none.
type Condition = (&'static str, Option<engine::Value>);

/// A WHERE clause of only the conditions that apply, each with its one parameter (`$$` in
/// the condition, as often as it needs it). Leaving out a filter instead of writing
/// `($n IS NULL OR ...)` lets SQLite's planner see the conditions it can use an index for.
#[derive(Default)]
struct Conditions {
    clauses: Vec<String>,
    args: Vec<engine::Value>,
    /// Parameters that precede these in the statement.
    first: usize,
}

impl Conditions {
    fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// Conditions whose parameters follow `before` others in the same statement.
    fn after(before: usize) -> Self {
        Self {
            first: before,
            ..Self::default()
        }
    }

    /// `condition` with its `$$` numbered as the next parameter, `value`.
    fn bind(&mut self, condition: &str, value: engine::Value) -> String {
        self.args.push(value);
        condition.replace("$$", &format!("${}", self.first + self.args.len()))
    }

    fn add(&mut self, condition: &str, value: impl Into<engine::Value>) {
        let clause = self.bind(condition, value.into());
        self.clauses.push(clause);
    }

    /// `condition` with its `$$` bound to `value`, or as written when it has no parameter.
    fn clause(&mut self, (condition, value): Condition) -> String {
        match value {
            Some(value) => self.bind(condition, value),
            None => condition.to_owned(),
        }
    }

    /// Every one of `conditions`.
    fn add_all(&mut self, conditions: Vec<Condition>) {
        for condition in conditions {
            let clause = self.clause(condition);
            self.clauses.push(clause);
        }
    }

    /// Any one of `alternatives`, each all of its conditions; with none, a condition no row
    /// meets.
    fn add_any(&mut self, alternatives: impl IntoIterator<Item = Vec<Condition>>) {
        let any: Vec<String> = alternatives
            .into_iter()
            .map(|all| {
                let all: Vec<String> = all.into_iter().map(|c| self.clause(c)).collect();
                format!("({})", all.join(" AND "))
            })
            .collect();
        self.clauses.push(if any.is_empty() {
            "1 = 0".to_owned()
        } else {
            format!("({})", any.join(" OR "))
        });
    }

    fn add_some<T: Into<engine::Value>>(&mut self, condition: &str, value: Option<T>) {
        if let Some(value) = value {
            self.add(condition, value);
        }
    }

    fn into_where(self) -> (String, Vec<engine::Value>) {
        let filter = if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        };
        (filter, self.args)
    }
}

/// The SQL of a paged list.
struct ListSql<'a> {
    columns: &'a str,
    from: &'a str,
    counted: Counted<'a>,
    /// How many rows past the page's start it counts at most.
    count_cap: i64,
    joins: Option<PageJoins<'a>>,
    filter: &'a str,
    order_by: &'a str,
}

impl<'a> ListSql<'a> {
    /// A list that counts the rows it shows, without joins chosen after the page.
    fn plain(columns: &'a str, from: &'a str, filter: &'a str, order_by: &'a str) -> Self {
        Self {
            columns,
            from,
            counted: Counted::Shown,
            count_cap: lienhoan_store::COUNT_CAP,
            joins: None,
            filter,
            order_by,
        }
    }
}

/// A page chosen by its rows' keys alone, then joined to what it shows: neither the count nor
/// the choice of rows pays for the joins, and the choice can be read from an index without
/// the rows it passes over.
struct PageJoins<'a> {
    /// The expression, over the rows of `from`, that selects their key as `row_key`.
    key: &'a str,
    /// Joins to `chosen.row_key`, the page's keys, naming the columns shown.
    sql: &'a str,
}

/// How a list counts the rows it shows.
enum Counted<'a> {
    /// The rows of its `from`.
    Shown,
    /// The rows of this from-clause: those of `from`, read without the order a page needs.
    Rows(&'a str),
    /// A number of rows kept beside them and read without counting (a part whose total is
    /// kept with the counters), and the rows of the other parts' from-clause, if any. When the
    /// number alone passes the cap, nothing is counted.
    Apart {
        total: &'a str,
        rest: Option<&'a str>,
    },
}

/// The cap on counting the rows of a page at `offset`, `count_cap` past it (the count stops
/// one row further, to tell "more"), and the scalar subquery that counts them.
fn capped_count(
    counted: &Counted,
    from: &str,
    filter: &str,
    offset: i64,
    count_cap: i64,
) -> (i64, String) {
    let cap = offset.saturating_add(count_cap);
    let past = cap.saturating_add(1);
    let count = |rows: &str| {
        format!("(SELECT COUNT(*) FROM (SELECT 1 AS one {rows} {filter} LIMIT {past}) capped)")
    };
    let sql = match counted {
        Counted::Shown => count(from),
        Counted::Rows(rows) => count(rows),
        Counted::Apart { total, rest } => {
            let total = format!("COALESCE({total}, 0)");
            let rest = rest.map_or_else(|| "0".to_owned(), count);
            // Both engines evaluate the count's subquery only when its branch is taken.
            format!("CASE WHEN {total} > {cap} THEN {past} ELSE {total} + {rest} END")
        }
    };
    (cap, sql)
}

/// One page of a filtered list and the total it is part of; the page bounds follow `args`.
/// The count travels in the page's statement, as a column of each row, so that page and total
/// are read together, in one snapshot; only a page past the end counts on its own.
async fn paged<T>(
    mut reader: engine::Reader<'_>,
    sql: ListSql<'_>,
    args: Vec<engine::Value>,
    (limit, offset): (i64, i64),
    map: impl Fn(&engine::Row) -> Result<T, EngineError>,
) -> StoreResult<lienhoan_store::Page<T>> {
    let ListSql {
        columns,
        from,
        counted,
        count_cap,
        joins,
        filter,
        order_by,
    } = sql;
    let (cap, count) = capped_count(&counted, from, filter, offset, count_cap);
    // Written out, not bound: SQLite plans a bound LIMIT for its value and so prepares the
    // statement again after every binding (16.9 % of a list's samples in its profile).
    let page = format!("{from} {filter} ORDER BY {order_by} LIMIT {limit} OFFSET {offset}");
    let sql = match joins {
        None => format!("SELECT {columns}, {count} AS listed_total {page}"),
        Some(PageJoins { key, sql }) => format!(
            "SELECT {columns}, {count} AS listed_total
             FROM (SELECT {key} {page}) chosen {sql} ORDER BY {order_by}"
        ),
    };
    let rows = reader.query(&sql, args.clone()).await?;
    let counted = match rows.first() {
        Some(row) => row.int("listed_total")?,
        // No row at all: none to count unless the page starts past the end.
        None if offset == 0 => 0,
        None => reader
            .query(&format!("SELECT {count} AS listed_total"), args)
            .await?[0]
            .int("listed_total")?,
    };
    let items = rows.iter().map(map).collect::<Result<_, _>>()?;
    Ok(lienhoan_store::Page {
        items,
        total: counted.min(cap),
        total_capped: counted > cap,
    })
}

fn page_bounds(limit: i64, offset: i64) -> (i64, i64) {
    let limit = if limit <= 0 {
        50
    } else {
        limit.min(lienhoan_store::PAGE_MAX)
    };
    (limit, offset.max(0))
}

fn actor_name(actor: &Actor) -> &str {
    &actor.username
}

#[async_trait]
impl Store for SqlStore {
    fn engine(&self) -> &'static str {
        self.engine.name()
    }

    async fn ping(&self) -> StoreResult<()> {
        let mut tx = self.engine.read().await?;
        tx.query("SELECT 1 AS one", vec![]).await?;
        Ok(())
    }

    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.engine.subscribe()
    }
}
