//! The application-server role: the "Like" API.
//!
//! ```text
//! POST   /api/posts              {"title": ".."}  -> 201 {"id", "title", "like_count"}
//! POST   /api/posts/{id}/like                     -> 200 {"post_id", "like_count", "liked_by_me": true}
//! DELETE /api/posts/{id}/like                     -> 200 {..., "liked_by_me": false}
//! GET    /api/posts/{id}                          -> 200 {"id", "title", "like_count", "liked_by_me"}
//! ```
//! Writes need `Authorization: Bearer <token>` and go to the database thread; reads are
//! answered from the committed snapshot in memory.

pub mod auth;
mod batch;
pub mod jobs;
mod json;
pub mod snapshot;
pub mod store;

use crate::http::response::Responder;
use auth::{Caller, Secret};
use crossbeam_channel::Sender;
use http_wire::request::Head;
use http_wire::status::{self, Status};
use jobs::{Answer, Job, Op, ReplyTo};
use json::{ErrorBody, PostView};
use serde::Deserialize;
use snapshot::SharedSnapshot;
use std::cell::RefCell;

/// Longest post title accepted, in characters.
pub const MAX_TITLE: usize = 200;

/// What one worker needs to serve the API.
pub struct Api {
    pub secret: Secret,
    pub snapshot: SharedSnapshot,
    pub jobs: Sender<Vec<Job>>,
    pub worker: usize,
    /// Writes of this event-loop round, sent together when it ends (`send_jobs`): the
    /// database thread then wakes once per round and finds the whole round's writes, rather
    /// than committing the first of them alone.
    pub pending: RefCell<Vec<Job>>,
}

/// What routing an API request led to.
pub enum Routed<'a> {
    /// The response is written.
    Answered,
    /// This API's database must act first; the response comes with its reply.
    Deferred(&'a Api, Op),
    /// A `--proxy` route (its index) claims the path: an upstream answers.
    Proxied(usize),
}

#[derive(Deserialize)]
struct NewPost {
    title: String,
}

/// Writes the response to a job the database thread answered.
pub fn respond(answer: &Answer, res: Responder<'_>) {
    json::respond(answer, res)
}

impl Api {
    /// Queues a write for the database thread; it goes with the round's others.
    pub fn submit(&self, op: Op, key: usize, conn_id: u64) {
        let reply_to = ReplyTo {
            worker: self.worker,
            key,
            conn_id,
        };
        self.pending.borrow_mut().push(Job { op, reply_to });
    }

    /// Sends the round's writes; if the database thread is gone, gives them back.
    pub fn send_jobs(&self) -> Result<(), Vec<Job>> {
        let jobs = std::mem::take(&mut *self.pending.borrow_mut());
        if jobs.is_empty() {
            return Ok(());
        }
        self.jobs.send(jobs).map_err(|e| e.into_inner())
    }

    /// Routes a request whose path starts with `/api/`.
    pub fn route(&self, head: &Head<'_>, body: &[u8], res: Responder<'_>) -> Routed<'_> {
        let path = head.path();
        let method = head.method;
        if path == "/api/posts" {
            if method != "POST" {
                return not_allowed(res, b"POST");
            }
            let Caller::User(_) = auth::caller(&self.secret, head.authorization) else {
                return unauthorized(res);
            };
            return match serde_json::from_slice::<NewPost>(body) {
                Ok(p) if p.title.trim().is_empty() => {
                    error(res, status::BAD_REQUEST, "title must not be empty")
                }
                Ok(p) if p.title.chars().count() > MAX_TITLE => {
                    error(res, status::BAD_REQUEST, "title is longer than 200 characters")
                }
                Ok(p) => Routed::Deferred(self, Op::CreatePost { title: p.title }),
                Err(_) => error(
                    res,
                    status::BAD_REQUEST,
                    "body must be JSON like {\"title\": \"...\"}",
                ),
            };
        }
        let Some(rest) = path.strip_prefix("/api/posts/") else {
            return error(res, status::NOT_FOUND, "no such resource");
        };
        let (id, like) = match rest.strip_suffix("/like") {
            Some(id) => (id, true),
            None => (rest, false),
        };
        let Some(post) = parse_id(id) else {
            return error(res, status::BAD_REQUEST, "post id must be a positive integer");
        };
        let caller = auth::caller(&self.secret, head.authorization);
        if like {
            let op = match method {
                "POST" => |user, post| Op::Like { user, post },
                "DELETE" => |user, post| Op::Unlike { user, post },
                _ => return not_allowed(res, b"POST, DELETE"),
            };
            return match caller {
                Caller::User(user) => Routed::Deferred(self, op(user, post)),
                _ => unauthorized(res),
            };
        }
        if !matches!(method, "GET" | "HEAD") {
            return not_allowed(res, b"GET, HEAD");
        }
        let user = match caller {
            Caller::Refused => return unauthorized(res),
            Caller::User(user) => Some(user),
            Caller::Anonymous => None,
        };
        let snapshot = self.snapshot.read().unwrap_or_else(|e| e.into_inner());
        match snapshot.post(post) {
            Some(p) => {
                let liked_by_me = user.is_some_and(|u| snapshot.liked(u, post));
                let view = PostView {
                    id: post,
                    title: &p.title,
                    like_count: p.like_count,
                    liked_by_me,
                };
                res.send_json(status::OK, &view);
                Routed::Answered
            }
            None => {
                drop(snapshot);
                error(res, status::NOT_FOUND, "no such post")
            }
        }
    }
}

/// Decimal, no sign, no leading zeros, 1 ..= i64::MAX (SQLite's integer keys).
fn parse_id(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || s.starts_with('0') || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u64>().ok().filter(|&n| n <= i64::MAX as u64)
}

fn error(res: Responder<'_>, status: Status, message: &str) -> Routed<'static> {
    res.send_json(status, &ErrorBody { error: message });
    Routed::Answered
}

fn not_allowed(res: Responder<'_>, allow: &[u8]) -> Routed<'static> {
    res.send_json_with(
        status::METHOD_NOT_ALLOWED,
        &[("Allow", allow)],
        &ErrorBody {
            error: "method not allowed",
        },
    );
    Routed::Answered
}

/// No hint about what was wrong with the token.
fn unauthorized(res: Responder<'_>) -> Routed<'static> {
    let body = ErrorBody {
        error: "authentication required",
    };
    res.send_json_with(status::UNAUTHORIZED, &[("WWW-Authenticate", b"Bearer")], &body);
    Routed::Answered
}

#[cfg(test)]
mod tests {
    use super::parse_id;

    #[test]
    fn ids_are_positive_decimal_integers() {
        assert_eq!(parse_id("1234"), Some(1234));
        for bad in [
            "",
            "0",
            "01",
            "-1",
            "+1",
            "1.5",
            "abc",
            "99999999999999999999",
            "9223372036854775808",
        ] {
            assert_eq!(parse_id(bad), None, "{bad}");
        }
    }
}
