//! What workers and the database thread exchange: jobs going in, domain answers coming back.
//! Nothing here is HTTP: the API layer (`json.rs`) turns an answer into a response.

use crossbeam_channel::Sender;
use mio::Waker;
use std::sync::Arc;

/// A write the database thread carries out.
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

/// What became of a job, once it is committed (or not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Created {
        id: u64,
        title: String,
    },
    /// A like or unlike: the post's count after it and whether the caller now likes it.
    Liked {
        post: u64,
        like_count: u64,
        liked_by_me: bool,
    },
    NoSuchPost,
    /// The batch failed and was rolled back: nothing of it is on disk.
    Failed,
    /// The database thread is gone (only at shutdown, or if it never started).
    Unavailable,
}

/// A finished job, for the connection that waits for it.
pub struct Reply {
    pub key: usize,
    pub conn_id: u64,
    pub answer: Answer,
}

/// Where each worker receives its replies, and how to wake it.
pub struct WorkerInbox {
    pub replies: Sender<Vec<Reply>>,
    pub waker: Arc<Waker>,
}
