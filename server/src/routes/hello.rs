//! TechEmpower's `/plaintext` and `/json`: headers assembled and JSON serialised per request.

use crate::http::response::Responder;
use http_wire::status;
use serde::Serialize;

/// Plain `text/plain` as TechEmpower specifies (ASCII body, no charset needed): every byte
/// saved here is a byte the load generator does not have to parse.
pub fn plaintext(res: Responder<'_>) {
    res.send(status::OK, b"text/plain", &[], b"Hello, World!");
}

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

pub fn json(res: Responder<'_>) {
    res.send_json(
        status::OK,
        &Message {
            message: "Hello, World!",
        },
    );
}
