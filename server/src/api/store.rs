//! The database thread: SQLite (WAL, synchronous=FULL) behind a channel, with group commit.
//!
//! Workers never touch the database: they send a `Job` and go on serving; this thread takes
//! every job waiting, applies them in one transaction, commits (one fsync for the batch),
//! updates the read snapshot, and only then hands each worker its replies and wakes it.
//! A 200 therefore always means the change is on disk.

use super::snapshot::{Change, Post, SharedSnapshot, Snapshot};
use crate::http::status::{self, Status};
use crossbeam_channel::{Receiver, Sender};
use mio::Waker;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

/// Most jobs one transaction takes; bounds the latency a huge burst adds to its first job.
const MAX_BATCH: usize = 4096;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    CreatePost { title: String },
    Like { user: u64, post: u64 },
    Unlike { user: u64, post: u64 },
}

/// Which connection on which worker waits for the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplyTo {
    pub worker: usize,
    pub key: usize,
    pub conn_id: u64,
}

pub struct Job {
    pub op: Op,
    pub reply_to: ReplyTo,
}

/// A finished job: the response status and its JSON body.
pub struct Reply {
    pub key: usize,
    pub conn_id: u64,
    pub status: Status,
    pub body: Vec<u8>,
}

/// Where each worker receives its replies, and how to wake it.
pub struct WorkerInbox {
    pub replies: Sender<Reply>,
    pub waker: Arc<Waker>,
}

#[derive(Clone, Debug)]
pub struct StoreConfig {
    pub group_commit: bool,
    /// Sleep before each commit (tests: a slow disk).
    pub delay: Duration,
}

#[derive(Serialize)]
struct PostBody<'a> {
    id: u64,
    title: &'a str,
    like_count: u64,
}

#[derive(Serialize)]
pub struct LikeBody {
    pub post_id: u64,
    pub like_count: u64,
    pub liked_by_me: bool,
}

#[derive(Serialize)]
pub struct ErrorBody<'a> {
    pub error: &'a str,
}

/// Opens (or creates) the database, loads the snapshot, starts the thread.
pub fn open(
    dir: &Path,
    cfg: StoreConfig,
    inboxes: Vec<WorkerInbox>,
    jobs: Receiver<Job>,
) -> Result<(SharedSnapshot, JoinHandle<()>), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join("likes.sqlite3");
    let db = Connection::open(&path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    init(&db).map_err(|e| format!("cannot initialise {}: {e}", path.display()))?;
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

fn init(db: &Connection) -> rusqlite::Result<()> {
    // WAL + synchronous=FULL: every commit fsyncs the log before it returns.
    db.pragma_update(None, "journal_mode", "WAL")?;
    db.pragma_update(None, "synchronous", "FULL")?;
    db.pragma_update(None, "foreign_keys", "ON")?;
    db.execute_batch(
        "CREATE TABLE IF NOT EXISTS posts (
             id INTEGER PRIMARY KEY,
             title TEXT NOT NULL,
             like_count INTEGER NOT NULL DEFAULT 0 CHECK (like_count >= 0)
         );
         CREATE TABLE IF NOT EXISTS likes (
             user_id INTEGER NOT NULL,
             post_id INTEGER NOT NULL REFERENCES posts(id),
             PRIMARY KEY (user_id, post_id)
         ) WITHOUT ROWID;",
    )
}

fn load(db: &Connection) -> rusqlite::Result<Snapshot> {
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
    mut db: Connection,
    cfg: StoreConfig,
    inboxes: Vec<WorkerInbox>,
    jobs: Receiver<Job>,
    snapshot: SharedSnapshot,
) {
    let mut batch = Vec::with_capacity(64);
    while let Ok(first) = jobs.recv() {
        batch.push(first);
        if cfg.group_commit {
            while batch.len() < MAX_BATCH {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
        }
        let outcomes = commit_batch(&mut db, &batch, cfg.delay);
        let mut woken = vec![false; inboxes.len()];
        {
            let mut snap = snapshot.write().unwrap_or_else(|e| e.into_inner());
            for (_, change) in &outcomes {
                if let Some(change) = change {
                    snap.apply(change.clone());
                }
            }
        }
        for (job, ((status, body), _)) in batch.drain(..).zip(outcomes) {
            let to = job.reply_to;
            let Some(inbox) = inboxes.get(to.worker) else {
                continue;
            };
            // A worker that has exited no longer needs its replies.
            if inbox
                .replies
                .send(Reply {
                    key: to.key,
                    conn_id: to.conn_id,
                    status,
                    body,
                })
                .is_ok()
            {
                woken[to.worker] = true;
            }
        }
        for (inbox, woken) in inboxes.iter().zip(woken) {
            if woken {
                let _ = inbox.waker.wake();
            }
        }
    }
}

type Outcome = ((Status, Vec<u8>), Option<Change>);

/// Applies every job in one transaction; if the commit fails, every job gets a 500.
fn commit_batch(db: &mut Connection, batch: &[Job], delay: Duration) -> Vec<Outcome> {
    let attempt = (|| -> rusqlite::Result<Vec<Outcome>> {
        let tx = db.transaction()?;
        let outcomes = batch
            .iter()
            .map(|job| apply(&tx, &job.op))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        tx.commit()?;
        Ok(outcomes)
    })();
    attempt.unwrap_or_else(|e| {
        eprintln!(
            "server: database error, {} requests answered 500: {e}",
            batch.len()
        );
        let body = serde_json::to_vec(&ErrorBody {
            error: "database error",
        })
        .unwrap_or_default();
        batch
            .iter()
            .map(|_| ((status::INTERNAL_SERVER_ERROR, body.clone()), None))
            .collect()
    })
}

fn apply(tx: &Transaction<'_>, op: &Op) -> rusqlite::Result<Outcome> {
    Ok(match op {
        Op::CreatePost { title } => {
            tx.prepare_cached("INSERT INTO posts (title) VALUES (?1)")?
                .execute(params![title])?;
            let id = tx.last_insert_rowid() as u64;
            let body = json(&PostBody {
                id,
                title,
                like_count: 0,
            });
            (
                (status::CREATED, body),
                Some(Change::Created {
                    id,
                    title: title.clone(),
                }),
            )
        }
        Op::Like { user, post } | Op::Unlike { user, post } => {
            let liking = matches!(op, Op::Like { .. });
            let count: Option<i64> = tx
                .prepare_cached("SELECT like_count FROM posts WHERE id = ?1")?
                .query_row(params![*post as i64], |r| r.get(0))
                .optional()?;
            let Some(count) = count else {
                return Ok((
                    (
                        status::NOT_FOUND,
                        json(&ErrorBody {
                            error: "no such post",
                        }),
                    ),
                    None,
                ));
            };
            // The primary key makes a second like (or unlike) a no-op: idempotent by construction.
            let changed = if liking {
                tx.prepare_cached("INSERT OR IGNORE INTO likes (user_id, post_id) VALUES (?1, ?2)")?
                    .execute(params![*user as i64, *post as i64])?
            } else {
                tx.prepare_cached("DELETE FROM likes WHERE user_id = ?1 AND post_id = ?2")?
                    .execute(params![*user as i64, *post as i64])?
            };
            let mut like_count = count as u64;
            if changed == 1 {
                let step = if liking { 1 } else { -1 };
                tx.prepare_cached("UPDATE posts SET like_count = like_count + ?1 WHERE id = ?2")?
                    .execute(params![step, *post as i64])?;
                like_count = if liking { like_count + 1 } else { like_count - 1 };
            }
            let body = json(&LikeBody {
                post_id: *post,
                like_count,
                liked_by_me: liking,
            });
            let change = if liking {
                Change::Liked {
                    user: *user,
                    post: *post,
                    like_count,
                }
            } else {
                Change::Unliked {
                    user: *user,
                    post: *post,
                    like_count,
                }
            };
            ((status::OK, body), Some(change))
        }
    })
}

fn json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}
