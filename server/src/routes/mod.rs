//! The router: maps a request's path and method to its handler; paths no built-in route
//! claims go to the static files under `--root`, if there is one. `--proxy` prefixes come
//! first: a proxied path is the upstream's whole business.

mod echo;
mod hello;

use crate::api::{Api, Routed};
use crate::files::StaticFiles;
use crate::http::response::Responder;
use crate::proxy::Proxy;
use http_wire::request::Head;
use http_wire::status;

/// The per-worker services a route may need.
pub struct Services<'a> {
    pub files: Option<&'a mut StaticFiles>,
    pub api: Option<&'a Api>,
    /// Only with `--proxy`: without it no path is compared with a prefix.
    pub proxy: Option<&'a Proxy>,
    pub now: std::time::Instant,
}

/// Answers one complete request (head plus decoded body), or defers it to the database.
pub fn dispatch<'a>(head: &Head<'_>, body: &[u8], res: Responder<'_>, services: Services<'a>) -> Routed<'a> {
    #[cfg(feature = "calibration-slowdown")]
    crate::calibration::spend();
    let method = head.method;
    let path = head.path();
    if let Some(route) = services.proxy.and_then(|p| p.route(path)) {
        return Routed::Proxied(route);
    }
    if let Some(api) = services.api.filter(|_| path.starts_with("/api/")) {
        return api.route(head, body, res);
    }
    match path {
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
        _ => match services.files {
            Some(files) => files.serve(head, res, services.now),
            None => res.send_text_status(status::NOT_FOUND, &[]),
        },
    }
    Routed::Answered
}

fn not_allowed(res: Responder<'_>, allow: &[u8]) {
    res.send_text_status(status::METHOD_NOT_ALLOWED, &[("Allow", allow)]);
}
