//! The Like API: auth, idempotent likes, concurrency, restart, durability, and a slow
//! database that must not slow the event loop.

mod common;
use common::*;
use server::Config;
use server::api::auth::Secret;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const KEY: &[u8] = b"test-secret-0123456789abcdef";

fn secret() -> Secret {
    Secret::new(KEY).unwrap()
}

fn api_config(dir: &std::path::Path) -> Config {
    Config {
        workers: 1,
        auth_secret: Some(secret()),
        data_dir: dir.to_path_buf(),
        ..Config::default()
    }
}

fn token(user: u64) -> String {
    secret().mint(user, Duration::from_secs(3600))
}

fn call(
    c: &mut Client,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, serde_json::Value) {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let r = c.request(req.as_bytes());
    assert_eq!(
        r.header("content-type"),
        Some("application/json"),
        "{method} {path}"
    );
    (r.status, serde_json::from_slice(&r.body).unwrap())
}

fn create_post(c: &mut Client, title: &str) -> u64 {
    let (status, v) = call(
        c,
        "POST",
        "/api/posts",
        Some(&token(1)),
        &format!("{{\"title\":\"{title}\"}}"),
    );
    assert_eq!(status, 201);
    assert_eq!(
        (v["title"].as_str(), v["like_count"].as_u64()),
        (Some(title), Some(0))
    );
    v["id"].as_u64().unwrap()
}

fn like_count(c: &mut Client, post: u64) -> u64 {
    let (status, v) = call(c, "GET", &format!("/api/posts/{post}"), None, "");
    assert_eq!(status, 200);
    v["like_count"].as_u64().unwrap()
}

#[test]
fn liking_is_idempotent_per_user_and_unliking_too() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(api_config(dir.path()));
    let mut c = Client::connect(server.addr());
    let post = create_post(&mut c, "first");
    let like = format!("/api/posts/{post}/like");
    let (alice, bob) = (token(10), token(11));
    for _ in 0..2 {
        let (status, v) = call(&mut c, "POST", &like, Some(&alice), "");
        assert_eq!(status, 200);
        assert_eq!(
            v,
            serde_json::json!({"post_id": post, "like_count": 1, "liked_by_me": true})
        );
    }
    assert_eq!(call(&mut c, "POST", &like, Some(&bob), "").1["like_count"], 2);
    let (_, v) = call(&mut c, "GET", &format!("/api/posts/{post}"), Some(&alice), "");
    assert_eq!(
        v,
        serde_json::json!({"id": post, "title": "first", "like_count": 2, "liked_by_me": true})
    );
    for _ in 0..2 {
        let (status, v) = call(&mut c, "DELETE", &like, Some(&alice), "");
        assert_eq!(status, 200);
        assert_eq!(
            v,
            serde_json::json!({"post_id": post, "like_count": 1, "liked_by_me": false})
        );
    }
    let (_, v) = call(&mut c, "GET", &format!("/api/posts/{post}"), Some(&alice), "");
    assert_eq!(
        (v["like_count"].as_u64(), v["liked_by_me"].as_bool()),
        (Some(1), Some(false))
    );
    let (_, v) = call(&mut c, "GET", &format!("/api/posts/{post}"), None, "");
    assert_eq!(v["liked_by_me"], false);
}

#[test]
fn two_authorization_headers_get_400_in_either_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(api_config(dir.path()));
    let post = create_post(&mut Client::connect(server.addr()), "twice");
    let good = format!("Authorization: Bearer {}\r\n", token(5));
    let junk = "Authorization: Bearer junk\r\n";
    for (first, second) in [
        (junk, good.as_str()),
        (good.as_str(), junk),
        (good.as_str(), good.as_str()),
    ] {
        let mut c = Client::connect(server.addr());
        let req = format!("POST /api/posts/{post}/like HTTP/1.1\r\nHost: t\r\n{first}{second}\r\n");
        let r = c.request(req.as_bytes());
        assert_eq!(r.status, 400, "{first}{second}");
        assert_eq!(
            r.body_text(),
            "400 Bad Request: more than one Authorization header\n"
        );
        assert!(c.is_closed());
    }
    assert_eq!(like_count(&mut Client::connect(server.addr()), post), 0);
}

#[test]
fn every_bad_token_gets_401_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(api_config(dir.path()));
    let mut c = Client::connect(server.addr());
    let post = create_post(&mut c, "guarded");
    let good = token(5);
    let expired = secret().mint(5, Duration::ZERO);
    let forged = good.replacen("5.", "6.", 1);
    let other_key = Secret::new(b"a completely different key")
        .unwrap()
        .mint(5, Duration::from_secs(60));
    let like = format!("/api/posts/{post}/like");
    for auth in [
        None,
        Some("Bearer"),
        Some("Bearer "),
        Some("Basic dXNlcjpwYXNz"),
        Some("Bearer not-a-token"),
        Some(&format!("Bearer {expired}")),
        Some(&format!("Bearer {forged}")),
        Some(&format!("Bearer {other_key}")),
        // User ids start at 1: a correctly signed token for user 0 speaks for nobody.
        Some(&format!("Bearer {}", token(0))),
    ] {
        let header = auth
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        for (method, path, body) in [
            ("POST", like.as_str(), ""),
            ("DELETE", like.as_str(), ""),
            ("POST", "/api/posts", "{\"title\":\"x\"}"),
        ] {
            let req = format!(
                "{method} {path} HTTP/1.1\r\nHost: t\r\n{header}Content-Length: {}\r\n\r\n{body}",
                body.len()
            );
            let r = c.request(req.as_bytes());
            assert_eq!(
                (r.status, r.header("www-authenticate")),
                (401, Some("Bearer")),
                "{auth:?} {method} {path}"
            );
            assert_eq!(r.body_text(), r#"{"error":"authentication required"}"#);
        }
    }
    assert_eq!(like_count(&mut c, post), 0);
    // A bad token on a read is refused too, rather than silently ignored.
    let (status, _) = call(&mut c, "GET", &format!("/api/posts/{post}"), Some(&expired), "");
    assert_eq!(status, 401);
    // Nothing reached the database either: no second post, no like rows. (The server holds
    // the file exclusively while it runs, so look after it stopped.)
    server.shutdown();
    server.join().unwrap();
    let db = rusqlite::Connection::open(dir.path().join("likes.sqlite3")).unwrap();
    let count = |sql: &str| db.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(
        (
            count("SELECT COUNT(*) FROM posts"),
            count("SELECT COUNT(*) FROM likes")
        ),
        (1, 0)
    );
}

#[test]
fn malformed_requests_get_json_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(api_config(dir.path()));
    let mut c = Client::connect(server.addr());
    let t = token(3);
    for (method, path, body, status) in [
        ("POST", "/api/posts", "{not json", 400),
        ("POST", "/api/posts", "{\"title\": \"\"}", 400),
        ("POST", "/api/posts", "{\"name\": \"x\"}", 400),
        ("POST", "/api/posts/abc/like", "", 400),
        ("POST", "/api/posts/0/like", "", 400),
        ("GET", "/api/posts/-1", "", 400),
        ("POST", "/api/posts/999/like", "", 404),
        ("GET", "/api/posts/999", "", 404),
        ("GET", "/api/nothing", "", 404),
        ("PUT", "/api/posts/1/like", "", 405),
        ("GET", "/api/posts", "", 405),
        ("DELETE", "/api/posts/1", "", 405),
    ] {
        let (got, v) = call(&mut c, method, path, Some(&t), body);
        assert_eq!(got, status, "{method} {path} {body}");
        assert!(v["error"].is_string(), "{v}");
    }
    let r = c.request(b"PUT /api/posts/1/like HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(r.header("allow"), Some("POST, DELETE"));
}

#[test]
fn a_hundred_users_liking_one_post_at_once_count_exactly_100() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(Config {
        workers: 2,
        ..api_config(dir.path())
    });
    let post = create_post(&mut Client::connect(server.addr()), "popular");
    let mut clients: Vec<Client> = (0..100).map(|_| Client::connect(server.addr())).collect();
    let req = |user: u64| {
        format!(
            "POST /api/posts/{post}/like HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\n\r\n",
            token(user)
        )
    };
    for (user, c) in clients.iter_mut().enumerate() {
        c.send(req(100 + user as u64).as_bytes());
    }
    let mut counts: Vec<u64> = clients
        .iter_mut()
        .map(|c| {
            let r = c.read_response();
            assert_eq!(r.status, 200);
            serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["like_count"]
                .as_u64()
                .unwrap()
        })
        .collect();
    counts.sort();
    assert_eq!(counts.last(), Some(&100));
    assert_eq!(like_count(&mut clients[0], post), 100);
    // Each like was counted once: the counts handed out are distinct values 1..=100.
    counts.dedup();
    assert_eq!(counts.len(), 100);
}

#[test]
fn pipelined_like_then_read_sees_the_like() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(api_config(dir.path()));
    let mut c = Client::connect(server.addr());
    let post = create_post(&mut c, "order");
    let t = token(9);
    let batch = format!(
        "POST /api/posts/{post}/like HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {t}\r\n\r\n\
         GET /api/posts/{post} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {t}\r\n\r\n\
         GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n"
    );
    c.send(batch.as_bytes());
    let liked: serde_json::Value = serde_json::from_slice(&c.read_response().body).unwrap();
    assert_eq!(liked["liked_by_me"], true);
    let read: serde_json::Value = serde_json::from_slice(&c.read_response().body).unwrap();
    assert_eq!(
        (read["like_count"].as_u64(), read["liked_by_me"].as_bool()),
        (Some(1), Some(true))
    );
    assert_eq!(c.read_response().body, b"Hello, World!");
}

#[test]
fn a_restarted_server_keeps_every_count() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(api_config(dir.path()));
    let mut c = Client::connect(server.addr());
    let (a, b) = (create_post(&mut c, "a"), create_post(&mut c, "b"));
    for user in 1..=7 {
        call(
            &mut c,
            "POST",
            &format!("/api/posts/{a}/like"),
            Some(&token(user)),
            "",
        );
    }
    call(
        &mut c,
        "POST",
        &format!("/api/posts/{b}/like"),
        Some(&token(3)),
        "",
    );
    drop(c);
    server.shutdown();
    server.join().unwrap();

    let server = start(api_config(dir.path()));
    let mut c = Client::connect(server.addr());
    assert_eq!((like_count(&mut c, a), like_count(&mut c, b)), (7, 1));
    let (_, v) = call(&mut c, "GET", &format!("/api/posts/{b}"), Some(&token(3)), "");
    assert_eq!(v["liked_by_me"], true);
    // Liking again after the restart is still idempotent.
    let (_, v) = call(
        &mut c,
        "POST",
        &format!("/api/posts/{a}/like"),
        Some(&token(1)),
        "",
    );
    assert_eq!(v["like_count"], 7);
}

#[test]
fn a_slow_database_does_not_delay_plaintext_on_the_same_worker() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config {
        db_delay: Duration::from_millis(400),
        ..api_config(dir.path())
    };
    let server = start(cfg);
    let mut writer = Client::connect(server.addr());
    let started = Instant::now();
    writer.send(b"POST /api/posts HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ");
    writer.send(format!("{}\r\nContent-Length: 13\r\n\r\n{{\"title\":\"s\"}}", token(1)).as_bytes());
    let mut fast = Client::connect(server.addr());
    for _ in 0..20 {
        let t = Instant::now();
        assert_eq!(fast.request(GET_PLAINTEXT).status, 200);
        assert!(
            t.elapsed() < Duration::from_millis(100),
            "plaintext took {:?}",
            t.elapsed()
        );
    }
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "the 20 requests waited for the database"
    );
    assert_eq!(writer.read_response().status, 201);
    assert!(started.elapsed() >= Duration::from_millis(400));
}

#[test]
fn a_full_read_buffer_behind_a_pending_write_waits_for_its_reply() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config {
        db_delay: Duration::from_millis(300),
        max_body_bytes: 1024,
        ..api_config(dir.path())
    };
    let limit = cfg.max_read_buffer();
    let server = start(cfg);
    let mut c = Client::connect(server.addr());
    let post = create_post(&mut c, "p");
    // A like, then more pipelined requests than the read buffer may hold, all at once.
    let n = limit / GET_PLAINTEXT.len() + 500;
    let mut burst = format!(
        "POST /api/posts/{post}/like HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\n\r\n",
        token(2)
    )
    .into_bytes();
    burst.extend(GET_PLAINTEXT.repeat(n));
    c.send(&burst);
    let like = c.read_response();
    assert_eq!(
        (like.status, like.body_text()),
        (200, r#"{"post_id":1,"like_count":1,"liked_by_me":true}"#)
    );
    for i in 0..n {
        let r = c
            .try_read_response(false)
            .unwrap_or_else(|e| panic!("response {i} of {n}: {e}"));
        assert_eq!(
            (r.status, r.body.as_slice()),
            (200, &b"Hello, World!"[..]),
            "response {i}"
        );
    }
}

#[test]
fn acknowledged_likes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, KEY).unwrap();
    let data = dir.path().join("data");
    let spawn = || {
        let mut cmd = Command::new(SERVER_BIN);
        cmd.args(["--listen", "127.0.0.1:0", "--workers", "2", "--auth-secret-file"])
            .arg(&key_file)
            .arg("--data-dir")
            .arg(&data)
            .stderr(Stdio::null());
        let (child, addr, _) = spawn_listening(cmd);
        (child, addr)
    };
    let (mut child, addr) = spawn();
    let post = create_post(&mut Client::connect(addr), "durable");
    // 64 connections, each pipelining likes from its own users; count every 200 we get.
    let mut clients: Vec<Client> = (0..64).map(|_| Client::connect(addr)).collect();
    let mut acknowledged = Vec::new();
    for round in 0..5u64 {
        for (i, c) in clients.iter_mut().enumerate() {
            let user = 1000 + round * 100 + i as u64;
            c.send(
                format!(
                    "POST /api/posts/{post}/like HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\n\r\n",
                    token(user)
                )
                .as_bytes(),
            );
        }
        for (i, c) in clients.iter_mut().enumerate() {
            let r = c.read_response();
            assert_eq!(r.status, 200, "like {round}/{i}: {}", r.body_text());
            acknowledged.push(1000 + round * 100 + i as u64);
        }
    }
    // Every like sent was acknowledged (a server answering 500 must not pass as durable).
    assert_eq!(acknowledged.len(), 5 * 64);
    // Right after the last batch of 200s: no graceful anything.
    child.kill().unwrap();
    child.wait().unwrap();
    drop(clients);

    let (mut child, addr) = spawn();
    let mut c = Client::connect(addr);
    assert_eq!(like_count(&mut c, post), acknowledged.len() as u64);
    for user in acknowledged {
        let (_, v) = call(
            &mut c,
            "GET",
            &format!("/api/posts/{post}"),
            Some(&token(user)),
            "",
        );
        assert_eq!(v["liked_by_me"], true, "user {user}'s acknowledged like is lost");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn the_token_command_mints_tokens_the_server_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, KEY).unwrap();
    let bin = SERVER_BIN;
    let out = Command::new(bin)
        .args(["token", "--user", "77", "--ttl", "1h", "--auth-secret-file"])
        .arg(&key_file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let minted = String::from_utf8(out.stdout).unwrap();
    assert_eq!(secret().verify(minted.trim().as_bytes()), Some(77));
    let out = Command::new(bin)
        .args(["token", "--user", "1"])
        .env_remove("EVLOOP_AUTH_SECRET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(bin)
        .args(["token", "--user", "1"])
        .env("EVLOOP_AUTH_SECRET", "short")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("EVLOOP_AUTH_SECRET"));
    let out = Command::new(bin)
        .args(["token", "--user", "0", "--auth-secret-file"])
        .arg(&key_file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_second_server_on_the_same_data_dir_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(api_config(dir.path()));
    let err = match server::start(api_config(dir.path())) {
        Ok(_) => panic!("a second server started on a database in use"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("is in use by another process"),
        "unexpected error: {err}"
    );
    // The first one is unaffected, and once it stops the directory can be used again.
    let mut c = Client::connect(server.addr());
    create_post(&mut c, "still here");
    drop(c);
    server.shutdown();
    server.join().unwrap();
    let again = start(api_config(dir.path()));
    let mut c = Client::connect(again.addr());
    assert_eq!(like_count(&mut c, 1), 0);
}
