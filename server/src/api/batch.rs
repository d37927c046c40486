//! One group commit: every job of a batch applied in one transaction.
//!
//! The database thread is the only writer, so the committed snapshot plus this batch's own
//! changes is exactly what the database holds: a like needs no SELECT. Only changes reach
//! SQL (one INSERT or DELETE per like that changes something), and each post's new count is
//! written once per batch rather than once per like.

use super::jobs::{Answer, Job, Op};
use super::snapshot::{Change, Snapshot};
use rusqlite::{Connection, Statement, params};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::Duration;

/// A job's answer, and the change it makes to the snapshot once committed.
pub type Applied = (Answer, Option<Change>);

/// The statements a batch runs, prepared once for the thread's lifetime.
pub struct Statements<'c> {
    begin: Statement<'c>,
    commit: Statement<'c>,
    rollback: Statement<'c>,
    insert_post: Statement<'c>,
    insert_like: Statement<'c>,
    delete_like: Statement<'c>,
    set_count: Statement<'c>,
}

impl<'c> Statements<'c> {
    pub fn prepare(db: &'c Connection) -> rusqlite::Result<Self> {
        Ok(Statements {
            begin: db.prepare("BEGIN")?,
            commit: db.prepare("COMMIT")?,
            rollback: db.prepare("ROLLBACK")?,
            insert_post: db.prepare("INSERT INTO posts (title) VALUES (?1)")?,
            // Plain INSERT: the primary key refuses a double like, which would mean the
            // snapshot and the database disagree; the batch then fails rather than lie.
            insert_like: db.prepare("INSERT INTO likes (user_id, post_id) VALUES (?1, ?2)")?,
            delete_like: db.prepare("DELETE FROM likes WHERE user_id = ?1 AND post_id = ?2")?,
            set_count: db.prepare("UPDATE posts SET like_count = ?1 WHERE id = ?2")?,
        })
    }
}

/// A post's like count as this batch leaves it.
struct Count {
    value: u64,
    changed: bool,
}

/// The batch's changes on top of the committed snapshot.
struct Overlay<'s> {
    committed: &'s Snapshot,
    counts: HashMap<u64, Count>,
    likes: HashMap<(u64, u64), bool>,
}

impl Overlay<'_> {
    fn liked(&self, user: u64, post: u64) -> bool {
        match self.likes.get(&(user, post)) {
            Some(&liked) => liked,
            None => self.committed.liked(user, post),
        }
    }

    /// The post's current count, or None if there is no such post.
    fn count(&mut self, post: u64) -> Option<&mut Count> {
        match self.counts.entry(post) {
            Entry::Occupied(e) => Some(e.into_mut()),
            Entry::Vacant(e) => self.committed.post(post).map(|p| {
                e.insert(Count {
                    value: p.like_count,
                    changed: false,
                })
            }),
        }
    }
}

/// Applies every job in one transaction and commits. On any error the transaction is rolled
/// back and nothing of the batch stays: the caller answers every job 500, so no answer
/// claims what is not on disk.
pub fn commit(
    db: &mut Statements<'_>,
    committed: &Snapshot,
    jobs: &[Job],
    delay: Duration,
) -> rusqlite::Result<Vec<Applied>> {
    let mut overlay = Overlay {
        committed,
        counts: HashMap::new(),
        likes: HashMap::new(),
    };
    let attempt = (|| -> rusqlite::Result<Vec<Applied>> {
        db.begin.execute([])?;
        let outcomes = jobs
            .iter()
            .map(|job| apply(db, &mut overlay, &job.op))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (post, count) in &overlay.counts {
            if count.changed {
                db.set_count.execute(params![count.value as i64, *post as i64])?;
            }
        }
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        db.commit.execute([])?;
        Ok(outcomes)
    })();
    if attempt.is_err() {
        // Fails harmlessly when no transaction is open (BEGIN itself failed).
        let _ = db.rollback.execute([]);
    }
    attempt
}

/// What every job of a failed batch is answered.
pub fn failed(jobs: &[Job]) -> Vec<Applied> {
    jobs.iter().map(|_| (Answer::Failed, None)).collect()
}

fn apply(db: &mut Statements<'_>, overlay: &mut Overlay<'_>, op: &Op) -> rusqlite::Result<Applied> {
    Ok(match op {
        Op::CreatePost { title } => {
            let id = db.insert_post.insert(params![title])? as u64;
            overlay.counts.insert(
                id,
                Count {
                    value: 0,
                    changed: false,
                },
            );
            let change = Change::Created {
                id,
                title: title.clone(),
            };
            let answer = Answer::Created {
                id,
                title: title.clone(),
            };
            (answer, Some(change))
        }
        &Op::Like { user, post } | &Op::Unlike { user, post } => {
            let liking = matches!(op, Op::Like { .. });
            // Idempotent: liking what is liked (or unliking what is not) changes nothing.
            let changes = overlay.liked(user, post) != liking;
            let Some(count) = overlay.count(post) else {
                return Ok((Answer::NoSuchPost, None));
            };
            if changes {
                let stmt = if liking {
                    &mut db.insert_like
                } else {
                    &mut db.delete_like
                };
                if stmt.execute(params![user as i64, post as i64])? != 1 {
                    return Err(rusqlite::Error::StatementChangedRows(0));
                }
                count.value = if liking {
                    count.value + 1
                } else {
                    count.value.saturating_sub(1)
                };
                count.changed = true;
            }
            let like_count = count.value;
            if changes {
                overlay.likes.insert((user, post), liking);
            }
            let answer = Answer::Liked {
                post,
                like_count,
                liked_by_me: liking,
            };
            let change = changes.then_some(if liking {
                Change::Liked {
                    user,
                    post,
                    like_count,
                }
            } else {
                Change::Unliked {
                    user,
                    post,
                    like_count,
                }
            });
            (answer, change)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::jobs::ReplyTo;
    use crate::api::store;

    fn job(op: Op) -> Job {
        let reply_to = ReplyTo {
            worker: 0,
            key: 0,
            conn_id: 0,
        };
        Job { op, reply_to }
    }

    fn counts(db: &Connection) -> (i64, Vec<(i64, i64)>) {
        let count = db
            .query_row("SELECT like_count FROM posts WHERE id = 1", [], |r| r.get(0))
            .unwrap();
        let mut stmt = db
            .prepare("SELECT user_id, post_id FROM likes ORDER BY user_id")
            .unwrap();
        let likes = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        (count, likes)
    }

    /// A fresh database with post 1 in it, and its snapshot.
    fn one_post(db: &Connection) -> Snapshot {
        store::init(db).unwrap();
        let mut snapshot = store::load(db).unwrap();
        let mut statements = Statements::prepare(db).unwrap();
        let create = job(Op::CreatePost { title: "t".into() });
        let created = commit(&mut statements, &snapshot, &[create], Duration::ZERO).unwrap();
        snapshot.apply(created[0].1.clone().unwrap());
        snapshot
    }

    /// Several changes to one pair inside one batch: each answer sees the ones before it,
    /// and the database and the snapshot end up agreeing.
    #[test]
    fn a_batch_sees_its_own_changes() {
        let db = Connection::open_in_memory().unwrap();
        let mut snapshot = one_post(&db);
        let mut statements = Statements::prepare(&db).unwrap();

        let like = |user| job(Op::Like { user, post: 1 });
        let unlike = |user| job(Op::Unlike { user, post: 1 });
        let batch = [
            like(1),
            like(1),
            unlike(1),
            like(2),
            unlike(3),
            like(1),
            unlike(1),
            job(Op::Like { user: 1, post: 99 }),
        ];
        let outcomes = commit(&mut statements, &snapshot, &batch, Duration::ZERO).unwrap();
        let answers: Vec<Answer> = outcomes.iter().map(|(answer, _)| answer.clone()).collect();
        let ok = |like_count, liked_by_me| Answer::Liked {
            post: 1,
            like_count,
            liked_by_me,
        };
        assert_eq!(
            answers,
            [
                ok(1, true),
                ok(1, true),
                ok(0, false),
                ok(1, true),
                ok(1, false),
                ok(2, true),
                ok(1, false),
                Answer::NoSuchPost,
            ]
        );
        assert_eq!(counts(&db), (1, vec![(2, 1)]));
        for change in outcomes.into_iter().filter_map(|(_, c)| c) {
            snapshot.apply(change);
        }
        assert_eq!(snapshot.post(1).map(|p| p.like_count), Some(1));
        assert!(snapshot.liked(2, 1) && !snapshot.liked(1, 1));
        // Reloading from the database gives the same state.
        let reloaded = store::load(&db).unwrap();
        assert_eq!(reloaded.post(1), snapshot.post(1));
        assert!(reloaded.liked(2, 1) && !reloaded.liked(1, 1));
    }

    /// If any statement fails the whole batch is rolled back: nothing half-applied stays,
    /// and a snapshot reloaded from the database (what the thread does then) works again.
    #[test]
    fn a_failed_batch_writes_nothing_and_a_reloaded_snapshot_heals() {
        let db = Connection::open_in_memory().unwrap();
        let mut snapshot = one_post(&db);
        let mut statements = Statements::prepare(&db).unwrap();
        // A snapshot that claims a like the database lacks makes the unlike's DELETE fail.
        snapshot.insert_like(5, 1);
        let batch = [
            job(Op::Like { user: 7, post: 1 }),
            job(Op::Unlike { user: 5, post: 1 }),
        ];
        assert!(commit(&mut statements, &snapshot, &batch, Duration::ZERO).is_err());
        assert_eq!(counts(&db), (0, vec![]));
        let answers = failed(&batch);
        assert!(
            answers
                .iter()
                .all(|(answer, change)| *answer == Answer::Failed && change.is_none())
        );

        let snapshot = store::load(&db).unwrap();
        let outcomes = commit(&mut statements, &snapshot, &batch, Duration::ZERO).unwrap();
        let answers: Vec<&Answer> = outcomes.iter().map(|(a, _)| a).collect();
        let liked = |user_likes: bool, like_count| Answer::Liked {
            post: 1,
            like_count,
            liked_by_me: user_likes,
        };
        assert_eq!(answers, [&liked(true, 1), &liked(false, 1)]);
        assert_eq!(counts(&db), (1, vec![(7, 1)]));
    }
}
