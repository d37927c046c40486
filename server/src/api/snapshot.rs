//! The committed state, in memory, for reads: GET needs no database round trip.
//!
//! Only the database thread writes it, and only after a commit succeeded, so a reader never
//! sees a like that is not on disk, and a client that got a 200 reads its own write.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Post {
    pub title: String,
    pub like_count: u64,
}

#[derive(Default, Debug)]
pub struct Snapshot {
    posts: HashMap<u64, Post>,
    likes: HashSet<(u64, u64)>,
}

pub type SharedSnapshot = Arc<RwLock<Snapshot>>;

/// One committed change, applied to the snapshot after its transaction committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Created { id: u64, title: String },
    Liked { user: u64, post: u64, like_count: u64 },
    Unliked { user: u64, post: u64, like_count: u64 },
}

impl Snapshot {
    pub fn insert_post(&mut self, id: u64, post: Post) {
        self.posts.insert(id, post);
    }

    pub fn insert_like(&mut self, user: u64, post: u64) {
        self.likes.insert((user, post));
    }

    pub fn apply(&mut self, change: Change) {
        match change {
            Change::Created { id, title } => self.insert_post(id, Post { title, like_count: 0 }),
            Change::Liked {
                user,
                post,
                like_count,
            } => {
                self.likes.insert((user, post));
                self.set_count(post, like_count);
            }
            Change::Unliked {
                user,
                post,
                like_count,
            } => {
                self.likes.remove(&(user, post));
                self.set_count(post, like_count);
            }
        }
    }

    fn set_count(&mut self, post: u64, like_count: u64) {
        if let Some(p) = self.posts.get_mut(&post) {
            p.like_count = like_count;
        }
    }

    pub fn post(&self, id: u64) -> Option<&Post> {
        self.posts.get(&id)
    }

    pub fn liked(&self, user: u64, post: u64) -> bool {
        self.likes.contains(&(user, post))
    }
}
