//! TechEmpower's `/plaintext` and `/json`: headers assembled and JSON serialised per request.

use crate::http::response::{Responder, TEXT_PLAIN};
use crate::http::status;
use serde::Serialize;

pub fn plaintext(res: Responder<'_>) {
    res.send(status::OK, TEXT_PLAIN, &[], b"Hello, World!");
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
