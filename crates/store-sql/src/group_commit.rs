//! Group commit, for any engine: writers take turns on one connection, and each writer's
//! transaction is a part (a savepoint) of a batch, one transaction of the engine that stays
//! open while other writers are queued, so that one commit (one sync of the log to disk) ends
//! all their writes. Committing alone, every write paid for its own sync, and the rows most
//! writes touch (the audit chain's head, the day's counters) were written to the log again by
//! each.
//!
//! A writer's commit returns only once its batch's commit is done, so an acknowledged write
//! still survives a crash. A writer that fails, or is dropped, rolls its part back and leaves
//! the rest of the batch alone. If the batch's commit fails, every writer in it gets the
//! error, and none of their writes is kept; if the batch was lost before (see
//! [`SharedConnection::lost`]), the error is [`EngineError::WithGroup`], which a writer may
//! meet through no statement of its own, and so try again. An engine may also hold a writer's
//! rows back and send the batch's together before its commit (PostgreSQL does); a failure
//! there is the batch's, reported the same way.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

use crate::engine::EngineError;

/// Where one writer's changes start, inside the batch.
const SAVEPOINT: &str = "SAVEPOINT one_write";
/// Keeps the last writer's changes in the batch, and starts the next writer's. A writer's
/// commit may leave its savepoint open, to be released by the next writer's first statement
/// or by the batch's commit: a round trip fewer for each write on a server engine.
const RELEASE_AND_SAVEPOINT: &str = "RELEASE one_write; SAVEPOINT one_write";

/// The statements that start a writer's savepoint, releasing first the one the last kept
/// writer left `unreleased`.
pub fn savepoint_after(unreleased: bool) -> &'static str {
    if unreleased {
        RELEASE_AND_SAVEPOINT
    } else {
        SAVEPOINT
    }
}

/// Drops one writer's changes and leaves the batch's others.
pub const ROLL_BACK: &str = "ROLLBACK TO one_write; RELEASE one_write";

/// The connection a batch's writers share, as an engine drives it. Each writer's part of the
/// batch is marked so that it can be rolled back alone, with the statements above; how and
/// when they are sent is the engine's.
#[async_trait]
pub trait SharedConnection: Send + 'static {
    /// Begins the transaction that a batch's writers share.
    async fn begin(&mut self) -> Result<(), EngineError>;
    /// Marks where the part of the writer whose turn begins starts.
    async fn start_writer(&mut self) -> Result<(), EngineError>;
    /// Keeps the changes of the writer whose turn ends in the batch: it committed into it.
    fn keep_writer(&mut self);
    /// Drops the changes of the writer whose turn ends without a commit.
    async fn roll_back_writer(&mut self) -> Result<(), EngineError>;
    async fn commit(&mut self) -> Result<(), EngineError>;
    /// Rolls the transaction back, if one is open.
    async fn roll_back(&mut self);
    /// Whether the transaction can no longer commit what its writers kept: it has ended (SQLite
    /// ends one on its own on a full disk or an I/O error), or a statement outside any
    /// writer's savepoint failed or was left unfinished (PostgreSQL would then turn the commit
    /// into a rollback, or commit without rows the writers were told were kept).
    fn lost(&self) -> bool;
    /// Work for after a batch's writers have been told its outcome.
    fn after_batch(&mut self) {}
}

/// How a batch ended: committed, or the error every writer in it gets.
type Outcome = Option<Result<(), EngineError>>;

/// The shared connection, and how many writers are waiting for their turn on it.
pub struct GroupCommit<C> {
    turns: Arc<Mutex<Turns<C>>>,
    queued: AtomicUsize,
}

/// What the turn holder works on.
struct Turns<C> {
    conn: C,
    batch: Option<Batch>,
    batches: u64,
}

/// The open transaction that the writers of one group share.
struct Batch {
    id: u64,
    /// Writers that committed into it and wait for its commit.
    members: usize,
    /// A writer's changes could not be rolled back out of it: it must not commit.
    broken: bool,
    outcome: watch::Sender<Outcome>,
}

/// Counts a writer as queued until it has its turn, or gives up waiting (a request dropped by
/// its client).
struct Queued<'a>(&'a AtomicUsize);

impl<'a> Queued<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl<C: SharedConnection> GroupCommit<C> {
    pub fn new(conn: C) -> Arc<Self> {
        Arc::new(Self {
            turns: Arc::new(Mutex::new(Turns {
                conn,
                batch: None,
                batches: 0,
            })),
            queued: AtomicUsize::new(0),
        })
    }

    /// Waits for this writer's turn, joins the open batch or begins one, and marks where the
    /// writer's part starts.
    pub async fn turn(self: &Arc<Self>) -> Result<Turn<C>, EngineError> {
        let guard = {
            let _queued = Queued::new(&self.queued);
            self.turns.clone().lock_owned().await
        };
        let mut turn = Turn {
            guard: Some(guard),
            group: self.clone(),
            started: false,
        };
        let turns = turn.turns();
        if turns.batch.as_ref().is_some_and(|b| b.broken) {
            let _ = end_batch(turns).await;
        }
        if turns.batch.is_none() {
            turns.conn.begin().await?;
            turns.batches += 1;
            turns.batch = Some(Batch {
                id: turns.batches,
                members: 0,
                broken: false,
                outcome: watch::Sender::new(None),
            });
        }
        turns.conn.start_writer().await?;
        turn.started = true;
        Ok(turn)
    }

    /// How many batches have begun.
    pub async fn batches(&self) -> u64 {
        self.turns.lock().await.batches
    }

    /// How many writers wait for their turn.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    fn nobody_queued(&self) -> bool {
        self.queued() == 0
    }
}

/// Commits the open batch, if there is one, and tells its writers how it went. A batch that
/// no writer kept a part in is rolled back.
async fn end_batch<C: SharedConnection>(turns: &mut Turns<C>) -> Result<(), EngineError> {
    let Some(batch) = turns.batch.take() else {
        return Ok(());
    };
    let outcome = if batch.members == 0 {
        turns.conn.roll_back().await;
        Ok(())
    } else if turns.conn.lost() || batch.broken {
        Err(EngineError::WithGroup(
            "the write was rolled back with its group by an earlier error".into(),
        ))
    } else {
        turns.conn.commit().await
    };
    if outcome.is_err() {
        turns.conn.roll_back().await;
    }
    batch.outcome.send_replace(Some(outcome.clone()));
    turns.conn.after_batch();
    outcome
}

/// A writer's turn on the connection, inside its batch.
pub struct Turn<C: SharedConnection> {
    /// Given up when the writer has kept its part in the batch and waits for the batch's
    /// commit.
    guard: Option<OwnedMutexGuard<Turns<C>>>,
    group: Arc<GroupCommit<C>>,
    /// The writer's part is marked, and must be kept or rolled back.
    started: bool,
}

impl<C: SharedConnection> Turn<C> {
    fn turns(&mut self) -> &mut Turns<C> {
        self.guard
            .as_mut()
            .expect("a turn holds the connection until it commits")
    }

    pub fn conn(&self) -> &C {
        &self
            .guard
            .as_ref()
            .expect("a turn holds the connection until it commits")
            .conn
    }

    pub fn conn_mut(&mut self) -> &mut C {
        &mut self.turns().conn
    }

    /// Keeps this writer's changes in the batch, lets the next writer in, and returns once
    /// the batch's commit is done.
    pub async fn commit(mut self) -> Result<(), EngineError> {
        let turns = self.turns();
        turns.conn.keep_writer();
        let batch = turns
            .batch
            .as_mut()
            .expect("a turn is taken inside a batch");
        batch.members += 1;
        let (id, outcome) = (batch.id, batch.outcome.subscribe());
        self.started = false;
        let guard = self.guard.take().expect("a turn holds the connection");
        if self.group.nobody_queued() {
            return finish(guard).await;
        }
        // The writers queued now join this batch; the last of them, finding nobody behind
        // it, ends it. Queueing again for the connection covers writers that give up: when
        // the turn comes back here, every writer queued before has had its own. The wait runs
        // in a task of its own, so that this writer, dropped meanwhile (its client went away),
        // still ends the batch if nobody else does: an open batch holds the engine's write
        // lock.
        drop(guard);
        in_own_task(wait_then_end(self.group.clone(), id, outcome)).await
    }
}

/// Waits for the batch `id` to end, or for the connection's turn, and ends the batch then if
/// it is still open.
async fn wait_then_end<C: SharedConnection>(
    group: Arc<GroupCommit<C>>,
    id: u64,
    mut outcome: watch::Receiver<Outcome>,
) -> Result<(), EngineError> {
    let mut guard = tokio::select! {
        ended = wait_for_end(&mut outcome) => return ended,
        guard = group.turns.clone().lock_owned() => guard,
    };
    if guard.batch.as_ref().is_some_and(|b| b.id == id) {
        return end_batch(&mut guard).await;
    }
    drop(guard);
    outcome_of(&outcome.borrow())
}

async fn wait_for_end(outcome: &mut watch::Receiver<Outcome>) -> Result<(), EngineError> {
    match outcome.wait_for(Option::is_some).await {
        Ok(ended) => outcome_of(&ended),
        Err(_) => Err(EngineError::Other(
            "the writing connection was closed".into(),
        )),
    }
}

/// Ends the batch in a task of its own (see [`in_own_task`]).
async fn finish<C: SharedConnection>(
    mut guard: OwnedMutexGuard<Turns<C>>,
) -> Result<(), EngineError> {
    in_own_task(async move { end_batch(&mut guard).await }).await
}

/// Runs a writer's part in ending its batch in a task of its own, so that it runs to the end,
/// and every writer in the batch is told the outcome, even if the writer is dropped meanwhile
/// (its client went away).
async fn in_own_task(
    work: impl Future<Output = Result<(), EngineError>> + Send + 'static,
) -> Result<(), EngineError> {
    tokio::spawn(work)
        .await
        .map_err(|e| EngineError::Other(format!("ending a group of writes failed: {e}")))?
}

/// A batch that is gone without an outcome was interrupted while it ended: whether it
/// committed is unknown, so it is not acknowledged.
fn outcome_of(ended: &Outcome) -> Result<(), EngineError> {
    ended.clone().unwrap_or_else(|| {
        Err(EngineError::Other(
            "the group's commit was interrupted".into(),
        ))
    })
}

/// Rolls back a writer that ended without a commit and, if nobody is waiting to join, nobody
/// in the batch waits for it, or the batch is lost, ends the batch: an open transaction holds
/// the engine's write lock. A writer that cannot be rolled back takes the batch with it.
async fn abandon<C: SharedConnection>(
    mut guard: OwnedMutexGuard<Turns<C>>,
    started: bool,
    group: Arc<GroupCommit<C>>,
) {
    let rolled_back = !started || guard.conn.lost() || guard.conn.roll_back_writer().await.is_ok();
    let Some(batch) = guard.batch.as_mut() else {
        return;
    };
    batch.broken |= !rolled_back;
    if batch.broken || batch.members == 0 || group.nobody_queued() || guard.conn.lost() {
        let _ = end_batch(&mut guard).await;
    }
}

/// The rollback needs the engine, which is asynchronous: the turn's lock on the connection
/// goes to a task that does it, so no other writer uses the connection before it is done.
/// Without a runtime (it is shutting down) the writer's changes cannot be rolled back here,
/// so the batch is marked broken: the next turn rolls it back whole.
impl<C: SharedConnection> Drop for Turn<C> {
    fn drop(&mut self) {
        let Some(mut guard) = self.guard.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(abandon(guard, self.started, self.group.clone()));
            }
            Err(_) => {
                if let Some(batch) = guard.batch.as_mut() {
                    batch.broken |= self.started;
                }
            }
        }
    }
}
