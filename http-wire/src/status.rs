//! Response status lines, rendered once as static bytes.

/// A response status: its code and the full status line (with CRLF) ready to copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    pub code: u16,
    pub reason: &'static str,
    pub line: &'static [u8],
}

macro_rules! statuses {
    ($($name:ident = $code:literal $reason:literal;)*) => {
        $(pub const $name: Status = Status {
            code: $code,
            reason: $reason,
            line: concat!("HTTP/1.1 ", $code, " ", $reason, "\r\n").as_bytes(),
        };)*
    };
}

statuses! {
    CONTINUE = 100 "Continue";
    OK = 200 "OK";
    CREATED = 201 "Created";
    PARTIAL_CONTENT = 206 "Partial Content";
    MOVED_PERMANENTLY = 301 "Moved Permanently";
    NOT_MODIFIED = 304 "Not Modified";
    BAD_REQUEST = 400 "Bad Request";
    UNAUTHORIZED = 401 "Unauthorized";
    FORBIDDEN = 403 "Forbidden";
    NOT_FOUND = 404 "Not Found";
    METHOD_NOT_ALLOWED = 405 "Method Not Allowed";
    REQUEST_TIMEOUT = 408 "Request Timeout";
    PRECONDITION_FAILED = 412 "Precondition Failed";
    PAYLOAD_TOO_LARGE = 413 "Content Too Large";
    URI_TOO_LONG = 414 "URI Too Long";
    RANGE_NOT_SATISFIABLE = 416 "Range Not Satisfiable";
    HEADERS_TOO_LARGE = 431 "Request Header Fields Too Large";
    INTERNAL_SERVER_ERROR = 500 "Internal Server Error";
    NOT_IMPLEMENTED = 501 "Not Implemented";
    BAD_GATEWAY = 502 "Bad Gateway";
    SERVICE_UNAVAILABLE = 503 "Service Unavailable";
    GATEWAY_TIMEOUT = 504 "Gateway Timeout";
    VERSION_NOT_SUPPORTED = 505 "HTTP Version Not Supported";
}
