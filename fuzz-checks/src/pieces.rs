//! Splitting input the way reads split it: the first bytes of a fuzz input choose the
//! piece sizes, the rest is the stream.

/// Bytes at the front of an input that choose the split points.
const CONFIG: usize = 4;

/// `(config, stream)`: short inputs are all stream, split byte by byte.
pub fn split_input(data: &[u8]) -> (&[u8], &[u8]) {
    if data.len() <= CONFIG {
        (&[], data)
    } else {
        data.split_at(CONFIG)
    }
}

/// `stream` cut into pieces of 1..=32 bytes, sizes cycling through `config`.
pub fn pieces<'a>(config: &'a [u8], stream: &'a [u8]) -> impl Iterator<Item = &'a [u8]> {
    let mut rest = stream;
    let mut i = 0;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let size = config
            .get(i % config.len().max(1))
            .map_or(1, |&b| usize::from(b % 32) + 1);
        i += 1;
        let (piece, tail) = rest.split_at(size.min(rest.len()));
        rest = tail;
        Some(piece)
    })
}
