//! `--targets FILE`: a request mix instead of one URL.
//!
//! ```text
//! # Lines whose first non-blank character is # are comments; blank lines separate targets.
//! POST http://127.0.0.1:8080/api/posts/7/like weight=3 name=like
//! Authorization: Bearer 7.1795582975.C0aG...
//!
//! GET http://127.0.0.1:8080/api/posts/7
//!
//! POST http://127.0.0.1:8080/api/posts name=create
//! Content-Type: application/json
//! < {"title": "hello"}
//! ```
//! Each target: `METHOD URL [weight=N] [name=LABEL]`, then header lines, then optionally a
//! body — `@FILE` (read from a file, relative to the targets file) or lines starting with
//! `< ` (joined with newlines). Targets are sent in file order, each `weight` times per
//! cycle, round-robin over connections. `name` groups targets in the report's breakdown;
//! by default the name is the method and the path with numeric segments as `{id}`.

use http_wire::token::is_token;
use std::path::Path;

/// One parsed target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub weight: u32,
    pub name: String,
    /// Line of the request line in the file, for error messages.
    pub line: usize,
}

pub const MAX_TARGETS: usize = 100_000;
pub const MAX_WEIGHT: u32 = 1_000;
/// Report groups (names) at most: each has its own histogram per thread.
pub const MAX_GROUPS: usize = 256;

/// Reads and parses a targets file; errors say `FILE:LINE: what`.
pub fn read(path: &Path) -> Result<Vec<TargetSpec>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read '{}': {e}", path.display()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    parse(&text, dir).map_err(|e| format!("{}:{e}", path.display()))
}

/// Parses targets text; `dir` resolves `@FILE` bodies. Errors are `LINE: what`.
pub fn parse(text: &str, dir: &Path) -> Result<Vec<TargetSpec>, String> {
    let mut targets: Vec<TargetSpec> = Vec::new();
    let mut current: Option<TargetSpec> = None;
    let mut inline_body: Vec<&str> = Vec::new();
    let finish = |t: Option<TargetSpec>, body: &mut Vec<&str>, out: &mut Vec<TargetSpec>| {
        if let Some(mut t) = t {
            if !body.is_empty() {
                t.body = body.join("\n").into_bytes();
                body.clear();
            }
            out.push(t);
        }
    };
    for (index, raw) in text.lines().enumerate() {
        let n = index + 1;
        let line = raw.trim_end();
        // Indented too: ` #GET ...` read as a target would be one that cannot be written back.
        if line.trim_start().starts_with('#') {
            continue;
        }
        if line.is_empty() {
            finish(current.take(), &mut inline_body, &mut targets);
            continue;
        }
        let Some(t) = current.as_mut() else {
            current = Some(request_line(line, n)?);
            if targets.len() >= MAX_TARGETS {
                return Err(format!("{n}: more than {MAX_TARGETS} targets"));
            }
            continue;
        };
        if let Some(body) = line
            .strip_prefix("< ")
            .or(if line == "<" { Some("") } else { None })
        {
            inline_body.push(body);
        } else if let Some(file) = line.strip_prefix('@') {
            if !t.body.is_empty() || !inline_body.is_empty() {
                return Err(format!("{n}: a target has one body"));
            }
            let path = dir.join(file.trim());
            t.body = std::fs::read(&path)
                .map_err(|e| format!("{n}: cannot read body '{}': {e}", path.display()))?;
        } else if !inline_body.is_empty() || !t.body.is_empty() {
            return Err(format!(
                "{n}: header line after the body (separate targets with a blank line)"
            ));
        } else {
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| format!("{n}: expected 'Name: value', got '{line}'"))?;
            let name = name.trim();
            // Said here, with its line, rather than later as "target N".
            if !is_token(name.as_bytes()) {
                return Err(format!("{n}: '{name}' is not a valid header name"));
            }
            t.headers.push((name.to_string(), value.trim().to_string()));
        }
    }
    finish(current.take(), &mut inline_body, &mut targets);
    if targets.is_empty() {
        return Err("1: no targets in the file".into());
    }
    Ok(targets)
}

fn request_line(line: &str, n: usize) -> Result<TargetSpec, String> {
    let mut words = line.split_whitespace();
    let (Some(method), Some(url)) = (words.next(), words.next()) else {
        return Err(format!(
            "{n}: expected 'METHOD URL [weight=N] [name=LABEL]', got '{line}'"
        ));
    };
    if !is_token(method.as_bytes()) {
        return Err(format!("{n}: '{method}' is not a valid HTTP method"));
    }
    let mut spec = TargetSpec {
        method: method.to_string(),
        url: url.to_string(),
        headers: Vec::new(),
        body: Vec::new(),
        weight: 1,
        name: String::new(),
        line: n,
    };
    for word in words {
        match word.split_once('=') {
            Some(("weight", w)) => {
                spec.weight = w
                    .parse()
                    .ok()
                    .filter(|w| (1..=MAX_WEIGHT).contains(w))
                    .ok_or_else(|| format!("{n}: weight must be a whole number from 1 to {MAX_WEIGHT}"))?;
            }
            Some(("name", label)) if !label.is_empty() => spec.name = label.to_string(),
            _ => {
                return Err(format!(
                    "{n}: unexpected '{word}' (expected weight=N or name=LABEL)"
                ));
            }
        }
    }
    if spec.name.is_empty() {
        spec.name = default_name(method, url);
    }
    Ok(spec)
}

/// `POST /api/posts/{id}/like` for `POST http://h/api/posts/1234/like?x=1`.
fn default_name(method: &str, url: &str) -> String {
    let path = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest.find('/').map_or("/", |i| &rest[i..]));
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let segments: Vec<&str> = path
        .split('/')
        .map(|s| {
            if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
                "{id}"
            } else {
                s
            }
        })
        .collect();
    format!("{method} {}", segments.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# a mix\n\
        POST http://h:8080/api/posts/7/like weight=3 name=like\n\
        Authorization: Bearer t\n\
        \n\
        GET http://h:8080/api/posts/12?x=1\n\
        \n\
        \n\
        POST http://h:8080/api/posts\n\
        Content-Type: application/json\n\
        < {\"title\":\n\
        <  \"x\"}\n";

    #[test]
    fn parses_targets_headers_weights_names_and_bodies() {
        let t = parse(FILE, Path::new(".")).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(
            (t[0].method.as_str(), t[0].weight, t[0].name.as_str()),
            ("POST", 3, "like")
        );
        assert_eq!(
            t[0].headers,
            vec![("Authorization".to_string(), "Bearer t".to_string())]
        );
        assert_eq!((t[1].name.as_str(), t[1].line), ("GET /api/posts/{id}", 5));
        assert_eq!(t[2].body, b"{\"title\":\n \"x\"}");
        assert_eq!(t[2].name, "POST /api/posts");
    }

    #[test]
    fn errors_name_the_line() {
        for (text, line) in [
            ("GET\n", "1:"),
            ("GET http://h/ weight=0\n", "1:"),
            ("GET http://h/ colour=red\n", "1:"),
            ("GET http://h/\nno colon here\n", "2:"),
            ("GET http://h/\n < x: y\n", "2:"),
            ("G(T http://h/\n", "1:"),
            ("POST http://h/\n< body\nX: late\n", "3:"),
            ("POST http://h/\n@/nonexistent/file\n", "2:"),
            ("# only comments\n", "1:"),
            ("  # an indented comment\n", "1:"),
        ] {
            let err = parse(text, Path::new(".")).unwrap_err();
            assert!(err.starts_with(line), "{text:?}: {err}");
        }
    }
}
