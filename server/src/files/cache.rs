//! Per-worker cache of file metadata and small file contents, keyed by root-relative path.
//!
//! A hit costs no filesystem syscall; an entry is revalidated (canonicalised again and
//! stat'ed) at most once per second, and reloaded when its inode, size or mtime changed.
//! Small files are held in memory; larger ones as an open fd shared by the connections
//! sending it with sendfile(2).

use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

/// Files up to this size are served from memory; larger ones with sendfile.
pub const SMALL_FILE_LIMIT: u64 = 64 * 1024;
const REVALIDATE_AFTER: Duration = Duration::from_secs(1);
/// Bounds per worker; past either the cache starts over (simple and bounded).
const MAX_ENTRIES: usize = 16 * 1024;
const MAX_MEMORY: usize = 64 * 1024 * 1024;

pub enum Content {
    Memory(Vec<u8>),
    Fd(Arc<File>),
}

/// A regular file, ready to serve: content plus pre-rendered header values.
pub struct FileEntry {
    pub content: Content,
    pub size: u64,
    /// Seconds since the epoch.
    pub mtime: u64,
    /// nginx's form: `"<mtime hex>-<size hex>"`.
    pub etag: String,
    pub last_modified: String,
    pub content_type: String,
    identity: Identity,
}

/// What identifies one version of a file, down to the nanosecond of its mtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
}

impl Identity {
    fn of(meta: &Metadata) -> Identity {
        Identity {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.len(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
        }
    }
}

pub enum Found<'a> {
    File(&'a FileEntry),
    Directory,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Miss {
    /// Missing, not a regular file or directory, or a path through a non-directory.
    NotFound,
    /// Permission denied, or a symlink leading out of the root.
    Forbidden,
}

enum Slot {
    File(FileEntry),
    Directory,
}

struct Cached {
    slot: Slot,
    checked_at: Instant,
}

pub struct FileCache {
    root: PathBuf,
    map: HashMap<String, Cached>,
    memory: usize,
}

impl FileCache {
    /// `root` must exist; it is canonicalised once so containment checks compare real paths.
    pub fn new(root: &Path) -> io::Result<FileCache> {
        Ok(FileCache {
            root: root.canonicalize()?,
            map: HashMap::new(),
            memory: 0,
        })
    }

    /// The file or directory at `rel` (root-relative, normalised), revalidated if stale.
    pub fn lookup(&mut self, rel: &str, now: Instant) -> Result<Found<'_>, Miss> {
        let fresh = self
            .map
            .get(rel)
            .is_some_and(|c| now.duration_since(c.checked_at) < REVALIDATE_AFTER);
        if !fresh {
            if let Err(miss) = self.refresh(rel, now) {
                if let Some(old) = self.map.remove(rel) {
                    self.forget(&old);
                }
                return Err(miss);
            }
        }
        match self.map.get(rel).map(|c| &c.slot) {
            Some(Slot::File(entry)) => Ok(Found::File(entry)),
            Some(Slot::Directory) => Ok(Found::Directory),
            None => Err(Miss::NotFound),
        }
    }

    fn refresh(&mut self, rel: &str, now: Instant) -> Result<(), Miss> {
        // Symlinks are followed only while they stay inside the root.
        let real = self.root.join(rel).canonicalize().map_err(miss)?;
        if !real.starts_with(&self.root) {
            return Err(Miss::Forbidden);
        }
        let meta = std::fs::metadata(&real).map_err(miss)?;
        let slot = if meta.is_dir() {
            Slot::Directory
        } else if !meta.is_file() {
            return Err(Miss::NotFound);
        } else {
            if let Some(c) = self.map.get_mut(rel) {
                if matches!(&c.slot, Slot::File(e) if e.identity == Identity::of(&meta)) {
                    c.checked_at = now;
                    return Ok(());
                }
            }
            Slot::File(load(rel, &real, &meta)?)
        };
        if self.map.len() >= MAX_ENTRIES || self.memory > MAX_MEMORY {
            self.map.clear();
            self.memory = 0;
        }
        if let Slot::File(FileEntry {
            content: Content::Memory(bytes),
            ..
        }) = &slot
        {
            self.memory += bytes.len();
        }
        if let Some(old) = self.map.insert(
            rel.to_owned(),
            Cached {
                slot,
                checked_at: now,
            },
        ) {
            self.forget(&old);
        }
        Ok(())
    }

    fn forget(&mut self, old: &Cached) {
        if let Slot::File(FileEntry {
            content: Content::Memory(bytes),
            ..
        }) = &old.slot
        {
            self.memory = self.memory.saturating_sub(bytes.len());
        }
    }
}

fn load(rel: &str, real: &Path, meta: &Metadata) -> Result<FileEntry, Miss> {
    let mut file = File::open(real).map_err(miss)?;
    let (content, size) = if meta.len() <= SMALL_FILE_LIMIT {
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        // Read what is there now: if the file changed since the stat, this is the truth.
        file.by_ref()
            .take(SMALL_FILE_LIMIT)
            .read_to_end(&mut bytes)
            .map_err(miss)?;
        let size = bytes.len() as u64;
        (Content::Memory(bytes), size)
    } else {
        (Content::Fd(Arc::new(file)), meta.len())
    };
    let modified = meta.modified().unwrap_or(UNIX_EPOCH);
    let mtime = modified.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    Ok(FileEntry {
        content,
        size,
        mtime,
        etag: format!("\"{mtime:x}-{size:x}\""),
        last_modified: httpdate::fmt_http_date(modified),
        content_type: content_type(rel),
        identity: Identity::of(meta),
    })
}

/// From the requested name's extension; text types get `; charset=utf-8`.
fn content_type(rel: &str) -> String {
    match mime_guess::from_path(rel).first() {
        Some(m) if m.type_() == mime_guess::mime::TEXT => format!("{}; charset=utf-8", m.essence_str()),
        Some(m) => m.essence_str().to_owned(),
        None => "application/octet-stream".to_owned(),
    }
}

fn miss(e: io::Error) -> Miss {
    match e.kind() {
        io::ErrorKind::PermissionDenied => Miss::Forbidden,
        _ => Miss::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Tests run as root here, where permission bits deny nothing; the mapping is checked directly.
    #[test]
    fn permission_denied_is_forbidden_and_the_rest_not_found() {
        assert_eq!(miss(io::ErrorKind::PermissionDenied.into()), Miss::Forbidden);
        assert_eq!(miss(io::ErrorKind::NotFound.into()), Miss::NotFound);
        assert_eq!(miss(io::ErrorKind::NotADirectory.into()), Miss::NotFound);
    }

    #[test]
    fn content_types_from_the_requested_name() {
        assert_eq!(content_type("a/b.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("x.png"), "image/png");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }
}
