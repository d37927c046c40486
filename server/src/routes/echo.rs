//! `POST /echo`: the request body back, with the request's Content-Type.

use crate::http::response::Responder;
use http_wire::request::Head;
use http_wire::status;

pub fn echo(head: &Head<'_>, body: &[u8], res: Responder<'_>) {
    let content_type = head.content_type.unwrap_or(b"application/octet-stream");
    res.send(status::OK, content_type, &[], body);
}
