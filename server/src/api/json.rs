//! The API's JSON bodies, and the HTTP answer to each database answer.

use super::jobs::Answer;
use crate::http::response::Responder;
use http_wire::status;
use serde::Serialize;

#[derive(Serialize)]
pub struct PostBody<'a> {
    pub id: u64,
    pub title: &'a str,
    pub like_count: u64,
}

#[derive(Serialize)]
pub struct PostView<'a> {
    pub id: u64,
    pub title: &'a str,
    pub like_count: u64,
    pub liked_by_me: bool,
}

#[derive(Serialize)]
pub struct LikeBody {
    pub post_id: u64,
    pub like_count: u64,
    pub liked_by_me: bool,
}

#[derive(Serialize)]
pub struct ErrorBody<'a> {
    pub error: &'a str,
}

/// Writes the response to a job the database thread answered.
pub fn respond(answer: &Answer, res: Responder<'_>) {
    match answer {
        Answer::Created { id, title } => res.send_json(
            status::CREATED,
            &PostBody {
                id: *id,
                title,
                like_count: 0,
            },
        ),
        &Answer::Liked {
            post,
            like_count,
            liked_by_me,
        } => res.send_json(
            status::OK,
            &LikeBody {
                post_id: post,
                like_count,
                liked_by_me,
            },
        ),
        Answer::NoSuchPost => res.send_json(
            status::NOT_FOUND,
            &ErrorBody {
                error: "no such post",
            },
        ),
        Answer::Failed => res.send_json(
            status::INTERNAL_SERVER_ERROR,
            &ErrorBody {
                error: "database error",
            },
        ),
        Answer::Unavailable => res.send_json(
            status::SERVICE_UNAVAILABLE,
            &ErrorBody {
                error: "database unavailable",
            },
        ),
    }
}
