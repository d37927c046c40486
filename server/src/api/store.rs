//! The database thread: SQLite (WAL, synchronous=FULL) behind a channel, with group commit.
//!
//! Workers never touch the database: they send a `Job` and go on serving; this thread takes
//! every job waiting, applies them in one transaction, commits (one fsync for the batch),
//! updates the read snapshot, and only then hands each worker its replies and wakes it.
//! A 200 therefore always means the change is on disk.

use super::batch::{self, Statements};
use super::jobs::{Job, Reply, WorkerInbox};
use super::snapshot::{Post, SharedSnapshot, Snapshot};
use crossbeam_channel::Receiver;
use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

/// Most jobs one transaction takes; bounds the latency a huge burst adds to its first job.
const MAX_BATCH: usize = 4096;

#[derive(Clone, Debug)]
pub struct StoreConfig {
    pub group_commit: bool,
    /// Sleep before each commit (tests: a slow disk).
    pub delay: Duration,
}

/// Opens (or creates) the database, loads the snapshot, starts the thread.
pub fn open(
    dir: &Path,
    cfg: StoreConfig,
    inboxes: Vec<WorkerInbox>,
    jobs: Receiver<Vec<Job>>,
) -> Result<(SharedSnapshot, JoinHandle<()>), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join("likes.sqlite3");
    let db = Connection::open(&path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    init(&db).map_err(|e| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy) => format!(
            "{} is in use by another process (is another server running with --data-dir {}?)",
            path.display(),
            dir.display()
        ),
        _ => format!("cannot initialise {}: {e}", path.display()),
    })?;
    let mode: String = db
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .map_err(|e| format!("cannot read the journal mode of {}: {e}", path.display()))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(format!(
            "{} cannot use WAL mode (journal_mode is {mode}); is the file system shared or read-only?",
            path.display()
        ));
    }
    let snapshot = Arc::new(RwLock::new(
        load(&db).map_err(|e| format!("cannot read {}: {e}", path.display()))?,
    ));
    let shared = snapshot.clone();
    let thread = std::thread::Builder::new()
        .name("database".into())
        .spawn(move || serve(db, cfg, inboxes, jobs, shared))
        .map_err(|e| format!("cannot start the database thread: {e}"))?;
    Ok((snapshot, thread))
}

/// After a failed batch: if memory and disk ever disagreed (the only way a like can fail on
/// its own), the snapshot is rebuilt from the database rather than failing again and again.
fn reload(db: &Connection, snapshot: &SharedSnapshot) {
    match load(db) {
        Ok(fresh) => *snapshot.write().unwrap_or_else(|e| e.into_inner()) = fresh,
        Err(e) => eprintln!("server: cannot reload the database into memory: {e}"),
    }
}

pub(super) fn init(db: &Connection) -> rusqlite::Result<()> {
    // The snapshot is only right while this server is the database's one writer, so hold the
    // file exclusively from the start: a second server on the same directory fails at once.
    // (In WAL mode it also spares the shared-memory index and a lock call per transaction.)
    db.busy_timeout(Duration::ZERO)?;
    db.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
    // WAL + synchronous=FULL: every commit fsyncs the log before it returns.
    db.pragma_update(None, "journal_mode", "WAL")?;
    db.pragma_update(None, "synchronous", "FULL")?;
    db.pragma_update(None, "foreign_keys", "ON")?;
    db.execute_batch("BEGIN EXCLUSIVE; COMMIT;")?;
    // likes is keyed post first: one post's likes sit together, which is how they are
    // counted and how they arrive (many users liking the same post).
    db.execute_batch(
        "CREATE TABLE IF NOT EXISTS posts (
             id INTEGER PRIMARY KEY,
             title TEXT NOT NULL,
             like_count INTEGER NOT NULL DEFAULT 0 CHECK (like_count >= 0)
         );
         CREATE TABLE IF NOT EXISTS likes (
             user_id INTEGER NOT NULL,
             post_id INTEGER NOT NULL REFERENCES posts(id),
             PRIMARY KEY (post_id, user_id)
         ) WITHOUT ROWID;",
    )
}

pub(super) fn load(db: &Connection) -> rusqlite::Result<Snapshot> {
    let mut snapshot = Snapshot::default();
    let mut posts = db.prepare("SELECT id, title, like_count FROM posts")?;
    let rows = posts.query_map([], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
    })?;
    for row in rows {
        let (id, title, like_count) = row?;
        snapshot.insert_post(
            id as u64,
            Post {
                title,
                like_count: like_count as u64,
            },
        );
    }
    let mut likes = db.prepare("SELECT user_id, post_id FROM likes")?;
    for row in likes.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))? {
        let (user, post) = row?;
        snapshot.insert_like(user as u64, post as u64);
    }
    Ok(snapshot)
}

/// Runs until every worker has dropped its job sender.
fn serve(
    db: Connection,
    cfg: StoreConfig,
    inboxes: Vec<WorkerInbox>,
    jobs: Receiver<Vec<Job>>,
    snapshot: SharedSnapshot,
) {
    let mut statements = match Statements::prepare(&db) {
        Ok(s) => s,
        Err(e) => {
            // Dropping `jobs` makes every later submit fail, which workers answer with 503.
            eprintln!("server: cannot prepare the database statements: {e}");
            return;
        }
    };
    let mut batch = Vec::with_capacity(64);
    let mut queued = std::collections::VecDeque::new();
    loop {
        // Each message is one worker round's writes; a batch takes every write waiting.
        if queued.is_empty() {
            match jobs.recv() {
                Ok(round) => queued.extend(round),
                Err(_) => return, // every worker has gone
            }
        }
        let limit = if cfg.group_commit { MAX_BATCH } else { 1 };
        while queued.len() < limit {
            match jobs.try_recv() {
                Ok(round) => queued.extend(round),
                Err(_) => break,
            }
        }
        batch.extend(queued.drain(..queued.len().min(limit)));
        // Only this thread writes the snapshot, so reading it here races with nobody.
        let committed = snapshot.read().unwrap_or_else(|e| e.into_inner());
        let attempt = batch::commit(&mut statements, &committed, &batch, cfg.delay);
        drop(committed);
        let outcomes = attempt.unwrap_or_else(|e| {
            eprintln!(
                "server: database error, {} requests answered 500: {e}",
                batch.len()
            );
            reload(&db, &snapshot);
            batch::failed(&batch)
        });
        let (answers, changes): (Vec<_>, Vec<_>) = outcomes.into_iter().unzip();
        {
            let mut snap = snapshot.write().unwrap_or_else(|e| e.into_inner());
            for change in changes.into_iter().flatten() {
                snap.apply(change);
            }
        }
        // One message and one wake per worker per batch.
        let mut replies: Vec<Vec<Reply>> = inboxes.iter().map(|_| Vec::new()).collect();
        for (job, answer) in batch.drain(..).zip(answers) {
            let to = job.reply_to;
            if let Some(list) = replies.get_mut(to.worker) {
                list.push(Reply {
                    key: to.key,
                    conn_id: to.conn_id,
                    answer,
                });
            }
        }
        for (inbox, list) in inboxes.iter().zip(replies) {
            // A worker that has exited no longer needs its replies.
            if !list.is_empty() && inbox.replies.send(list).is_ok() {
                let _ = inbox.waker.wake();
            }
        }
    }
}
