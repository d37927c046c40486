//! The web-server role: files under `--root`, with nginx's validators, conditional
//! requests and single byte ranges.

mod cache;
mod path;
pub mod preconditions;
pub mod range;

use crate::http::response::{FileBody, Responder};
use cache::{Content, FileCache, FileEntry, Found, Miss};
use http_wire::request::Head;
use http_wire::status;
use preconditions::{Decision, Validators};
use range::RangeAsk;
use std::io;
use std::path::Path;
use std::time::Instant;

pub use cache::SMALL_FILE_LIMIT;

/// One worker's view of the document root, with its reused path buffers.
pub struct StaticFiles {
    cache: FileCache,
    decoded: Vec<u8>,
    rel: String,
    index: String,
}

impl StaticFiles {
    pub fn new(root: &Path) -> io::Result<StaticFiles> {
        Ok(StaticFiles {
            cache: FileCache::new(root)?,
            decoded: Vec::new(),
            rel: String::new(),
            index: String::new(),
        })
    }

    /// Forgets every cached file and resolves `root` again; on error nothing changes.
    pub fn reload(&mut self, root: &Path) -> io::Result<()> {
        self.cache = FileCache::new(root)?;
        Ok(())
    }

    /// Answers a request for a path no built-in route claimed.
    pub fn serve(&mut self, head: &Head<'_>, res: Responder<'_>, now: Instant) {
        let target = match path::normalise(head.path(), &mut self.decoded, &mut self.rel) {
            Ok(t) => t,
            Err(e) => return res.send_text_detail(status::BAD_REQUEST, e.detail(), &[]),
        };
        let readable = matches!(head.method, "GET" | "HEAD");
        match self.cache.lookup(&self.rel, now) {
            Err(Miss::NotFound) => res.send_text_status(status::NOT_FOUND, &[]),
            Err(Miss::Forbidden) => res.send_text_status(status::FORBIDDEN, &[]),
            Ok(_) if !readable => {
                res.send_text_status(status::METHOD_NOT_ALLOWED, &[("Allow", b"GET, HEAD")])
            }
            // `/file.txt/` names a directory that is not there.
            Ok(Found::File(_)) if target.dir_intent => res.send_text_status(status::NOT_FOUND, &[]),
            Ok(Found::File(entry)) => send_entry(head, entry, res),
            Ok(Found::Directory) if !target.dir_intent => redirect_to_slash(head, res),
            Ok(Found::Directory) => {
                self.index.clear();
                self.index.push_str(&self.rel);
                if !self.index.is_empty() {
                    self.index.push('/');
                }
                self.index.push_str("index.html");
                match self.cache.lookup(&self.index, now) {
                    Ok(Found::File(entry)) => send_entry(head, entry, res),
                    // No index and no listing.
                    _ => res.send_text_status(status::FORBIDDEN, &[]),
                }
            }
        }
    }
}

/// `/dir` → 301 to `/dir/`, query kept.
fn redirect_to_slash(head: &Head<'_>, res: Responder<'_>) {
    let (path, query) = match head.target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (head.target, None),
    };
    let path = &path[path.len() - head.path().len()..]; // drop an absolute-form's scheme and host
    let mut location = Vec::with_capacity(path.len() + 2 + query.map_or(0, str::len));
    location.extend_from_slice(path.as_bytes());
    location.push(b'/');
    if let Some(q) = query {
        location.push(b'?');
        location.extend_from_slice(q.as_bytes());
    }
    res.send_text_status(status::MOVED_PERMANENTLY, &[("Location", &location)]);
}

fn send_entry(head: &Head<'_>, entry: &FileEntry, res: Responder<'_>) {
    let validators = Validators {
        etag: &entry.etag,
        mtime: entry.mtime,
    };
    let use_range = match preconditions::evaluate(&head.conditions, &validators, true) {
        Decision::PreconditionFailed => return res.send_text_status(status::PRECONDITION_FAILED, &[]),
        Decision::NotModified => {
            let headers = [
                ("ETag", entry.etag.as_bytes()),
                ("Last-Modified", entry.last_modified.as_bytes()),
            ];
            return res.send_bodiless(status::NOT_MODIFIED, &headers);
        }
        Decision::Proceed { use_range } => use_range && head.method == "GET",
    };
    let ask = if use_range {
        range::parse(head.conditions.range, entry.size)
    } else {
        RangeAsk::Whole
    };
    let mut content_range = ContentRange::default();
    let (status, start, len) = match ask {
        RangeAsk::Whole => (status::OK, 0, entry.size),
        RangeAsk::Part { start, end } => {
            content_range.part(start, end, entry.size);
            (status::PARTIAL_CONTENT, start, end - start + 1)
        }
        RangeAsk::Unsatisfiable => {
            content_range.unsatisfied(entry.size);
            let headers = [("Content-Range", content_range.bytes())];
            return res.send_text_detail(status::RANGE_NOT_SATISFIABLE, "range outside the file", &headers);
        }
    };
    let mut headers = [
        ("Last-Modified", entry.last_modified.as_bytes()),
        ("ETag", entry.etag.as_bytes()),
        ("Accept-Ranges", b"bytes".as_slice()),
        ("Content-Range", content_range.bytes()),
    ];
    let headers = if status == status::OK {
        &mut headers[..3]
    } else {
        &mut headers[..]
    };
    let content_type = entry.content_type.as_bytes();
    match &entry.content {
        Content::Memory(bytes) => {
            let body = &bytes[start as usize..(start + len) as usize];
            res.send(status, content_type, headers, body);
        }
        Content::Fd(file) => res.send_file(
            status,
            content_type,
            headers,
            FileBody::new(file.clone(), start, len),
        ),
    }
}

/// `bytes a-b/size` or `bytes */size`, rendered on the stack.
struct ContentRange {
    buf: [u8; 72],
    len: usize,
}

impl Default for ContentRange {
    fn default() -> Self {
        ContentRange { buf: [0; 72], len: 0 }
    }
}

impl ContentRange {
    fn push(&mut self, s: &[u8]) {
        self.buf[self.len..self.len + s.len()].copy_from_slice(s);
        self.len += s.len();
    }

    fn part(&mut self, start: u64, end: u64, size: u64) {
        let mut n = itoa::Buffer::new();
        self.push(b"bytes ");
        self.push(n.format(start).as_bytes());
        self.push(b"-");
        self.push(n.format(end).as_bytes());
        self.push(b"/");
        self.push(n.format(size).as_bytes());
    }

    fn unsatisfied(&mut self, size: u64) {
        self.push(b"bytes */");
        self.push(itoa::Buffer::new().format(size).as_bytes());
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}
