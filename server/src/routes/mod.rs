//! The router: maps a request's path and method to its handler; paths no built-in route
//! claims go to the static files under `--root`, if there is one.

mod echo;
mod hello;

use crate::files::StaticFiles;
use crate::http::head::Head;
use crate::http::response::Responder;
use crate::http::status;

/// Answers one complete request (head plus decoded body).
pub fn dispatch(
    head: &Head<'_>,
    body: &[u8],
    res: Responder<'_>,
    files: Option<&mut StaticFiles>,
    now: std::time::Instant,
) {
    let method = head.method;
    match head.path() {
        "/plaintext" => match method {
            "GET" | "HEAD" => hello::plaintext(res),
            _ => not_allowed(res, b"GET, HEAD"),
        },
        "/json" => match method {
            "GET" | "HEAD" => hello::json(res),
            _ => not_allowed(res, b"GET, HEAD"),
        },
        "/echo" => match method {
            "POST" => echo::echo(head, body, res),
            _ => not_allowed(res, b"POST"),
        },
        _ => match files {
            Some(files) => files.serve(head, res, now),
            None => res.send_text_status(status::NOT_FOUND, &[]),
        },
    }
}

fn not_allowed(res: Responder<'_>, allow: &[u8]) {
    res.send_text_status(status::METHOD_NOT_ALLOWED, &[("Allow", allow)]);
}
