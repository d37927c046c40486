//! A property test over real sockets: random pipelines of valid and invalid requests, cut
//! at random byte boundaries and sent with random pauses, against a model of what must come
//! back — one response per request, in order, with the right status and body, and nothing
//! after the first request that ends the connection.
//!
//! `PIPELINE_MODEL_CASES=N` runs more cases (CI runs the default); `PIPELINE_MODEL_SEED=S`
//! replays one seed. A failure names its seed and case.

mod common;
use common::*;
use server::Config;
use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

/// xorshift64*: small, seedable, and enough to pick requests and cut points.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| b'a' + self.below(26) as u8).collect()
    }
}

/// One request in a pipeline and what the model says must answer it.
struct Exchange {
    bytes: Vec<u8>,
    status: u16,
    /// The body the response must carry (`None`: any body; HEAD: none at all).
    body: Option<Vec<u8>>,
    head: bool,
    /// The server closes the connection after answering it.
    ends: bool,
}

fn valid(rng: &mut Rng) -> Exchange {
    let plain = |status, body: Option<&[u8]>, bytes: &[u8]| Exchange {
        bytes: bytes.to_vec(),
        status,
        body: body.map(<[u8]>::to_vec),
        head: false,
        ends: false,
    };
    match rng.below(6) {
        0 => plain(200, Some(b"Hello, World!"), GET_PLAINTEXT),
        1 => Exchange {
            head: true,
            body: Some(Vec::new()),
            ..plain(200, None, b"HEAD /plaintext HTTP/1.1\r\nHost: t\r\n\r\n")
        },
        2 => {
            let n = rng.below(300) as usize;
            let body = rng.bytes(n);
            let mut bytes = format!(
                "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            bytes.extend_from_slice(&body);
            plain(200, Some(&body), &bytes)
        }
        3 => {
            let mut bytes = b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            let mut body = Vec::new();
            for _ in 0..rng.below(4) {
                let n = 1 + rng.below(100) as usize;
                let chunk = rng.bytes(n);
                bytes.extend_from_slice(format!("{:x};ext=1\r\n", chunk.len()).as_bytes());
                bytes.extend_from_slice(&chunk);
                bytes.extend_from_slice(b"\r\n");
                body.extend_from_slice(&chunk);
            }
            bytes.extend_from_slice(b"0\r\nTrailer: x\r\n\r\n");
            plain(200, Some(&body), &bytes)
        }
        4 => plain(404, None, b"GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n"),
        _ => plain(405, None, b"DELETE /plaintext HTTP/1.1\r\nHost: t\r\n\r\n"),
    }
}

/// A request the server must refuse; it answers, then closes.
fn invalid(rng: &mut Rng) -> Exchange {
    let cases: [(&[u8], u16); 8] = [
        (b"GET /plaintext HTTP/1.1\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: +3\r\n\r\nabc", 400),
        (b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n", 400),
        (b"\x01\x02 junk\r\n\r\n", 400),
        (b"HEAD / HTTP/1.1\r\nHost: t\r\nHost: u\r\n\r\n", 400),
    ];
    let (bytes, status) = cases[rng.below(cases.len() as u64) as usize];
    Exchange {
        bytes: bytes.to_vec(),
        status,
        body: bytes.starts_with(b"HEAD ").then(Vec::new),
        head: bytes.starts_with(b"HEAD "),
        ends: true,
    }
}

/// A pipeline: valid requests, then maybe one that ends the connection (an error, or a
/// `Connection: close`, which comes last: a client sends nothing after it), or a request
/// cut short by EOF, which is never answered.
fn pipeline(rng: &mut Rng) -> (Vec<Exchange>, Vec<u8>) {
    let mut exchanges: Vec<Exchange> = (0..rng.below(10)).map(|_| valid(rng)).collect();
    let mut tail = Vec::new();
    match rng.below(4) {
        0 => {
            exchanges.push(invalid(rng));
            // Whatever follows an error is never answered.
            tail = valid(rng).bytes;
        }
        1 => exchanges.push(Exchange {
            bytes: b"GET /plaintext HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".to_vec(),
            status: 200,
            body: Some(b"Hello, World!".to_vec()),
            head: false,
            ends: true,
        }),
        2 => {
            let cut = valid(rng).bytes;
            tail = cut[..1 + rng.below(cut.len() as u64 - 1) as usize].to_vec();
        }
        _ => {}
    }
    (exchanges, tail)
}

/// Sends `stream` in random pieces with random pauses, then half-closes.
fn send_in_pieces(mut socket: TcpStream, stream: Vec<u8>, seed: u64) {
    let mut rng = Rng(seed | 1);
    let mut rest = &stream[..];
    while !rest.is_empty() {
        let n = (1 + rng.below(64) as usize).min(rest.len());
        // After an error the server stops reading; what it never reads may fail to send.
        if socket.write_all(&rest[..n]).is_err() {
            return;
        }
        rest = &rest[n..];
        if rng.below(8) == 0 {
            std::thread::sleep(Duration::from_micros(rng.below(1500)));
        }
    }
    let _ = socket.shutdown(Shutdown::Write);
}

fn run_case(addr: SocketAddr, seed: u64, case: usize) {
    let mut rng = Rng(seed.wrapping_add(case as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let (exchanges, tail) = pipeline(&mut rng);
    let mut stream: Vec<u8> = exchanges.iter().flat_map(|x| x.bytes.clone()).collect();
    stream.extend_from_slice(&tail);
    let label = format!("seed {seed} case {case}");
    let mut client = Client::connect(addr);
    let writer = {
        let socket = client.stream.try_clone().unwrap();
        let pieces_seed = rng.next();
        std::thread::spawn(move || send_in_pieces(socket, stream, pieces_seed))
    };
    let answered = exchanges
        .iter()
        .position(|x| x.ends)
        .map_or(exchanges.len(), |i| i + 1);
    for (i, x) in exchanges[..answered].iter().enumerate() {
        let what = String::from_utf8_lossy(&x.bytes);
        let r = client
            .try_read_response(x.head)
            .unwrap_or_else(|e| panic!("{label}: request {i} ({what:?}) got no response: {e}"));
        assert_eq!(r.status, x.status, "{label}: request {i}: {what:?}");
        if let Some(want) = &x.body {
            assert_eq!(&r.body, want, "{label}: request {i}'s body");
        }
    }
    // Nothing for what follows the request that ended it, or for a request cut short.
    assert!(
        client.is_closed(),
        "{label}: more than one response per request, or no close"
    );
    writer.join().unwrap();
}

#[test]
fn random_pipelines_split_at_random_bytes_get_the_models_answers() {
    let server = start(Config {
        workers: 1,
        ..Config::default()
    });
    let env = |name: &str| std::env::var(name).ok().map(|v| v.parse::<u64>().expect(name));
    let cases = env("PIPELINE_MODEL_CASES").unwrap_or(150) as usize;
    let seed = env("PIPELINE_MODEL_SEED").unwrap_or(0x5eed);
    for case in 0..cases {
        run_case(server.addr(), seed, case);
    }
    // The worker counts a close just after the client can see it.
    eventually("every connection closed", || server.stats().open == 0);
}
