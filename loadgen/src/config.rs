//! What to run: the engine's input, independent of how it was obtained (CLI or a test).

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use crate::mix::{MAX_GROUPS, TargetSpec};
use crate::plan::{Mix, Plan};
use crate::schedule::Rate;
use crate::schedule::ramp::Stage;
use crate::shard::Sharding;
use crate::tls::TlsOptions;
use crate::url::Url;
use http_wire::token::is_token;

#[derive(Debug, Clone)]
pub struct Config {
    pub url: String,
    /// Total connections, shared out over the threads.
    pub connections: usize,
    /// Reactor threads; more threads than connections is clamped to one per connection.
    pub threads: usize,
    /// Recorded run length (after warmup). `None` = until `requests` are done.
    pub duration: Option<Duration>,
    /// Stop after this many recorded requests (responses plus failed requests).
    pub requests: Option<u64>,
    /// Open loop: total requests per second over all threads. `None` = closed loop (or
    /// `stages`).
    pub rate: Option<f64>,
    /// Open loop with a ramping rate (`--stages`); the run lasts as long as the stages.
    pub stages: Vec<Stage>,
    /// Requests in flight per connection.
    pub pipeline: usize,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Per request, counted from the write; past it the request is a timeout.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Connections being opened or not yet answered at once, shared over the threads (at
    /// least one each): a connect storm is paced so the target's listen queues are not
    /// overrun.
    pub connect_concurrency: usize,
    /// Load applied before recording starts.
    pub warmup: Duration,
    /// Close each connection after this many requests (the last one says
    /// `Connection: close`) and open a new one; `Some(1)` is `--no-keepalive`.
    pub requests_per_conn: Option<u64>,
    /// Target processes whose CPU time (with their descendants) is measured.
    pub server_pids: Vec<u32>,
    /// `--targets`: a request mix replacing url/method/headers/body (empty: one URL).
    pub targets: Vec<TargetSpec>,
    /// Where `targets` came from, for messages.
    pub targets_file: String,
    /// With https: trust roots, `-k`, resumption.
    pub tls: TlsOptions,
    /// `--shard I/N`: the settings above are already this shard's part of the whole run.
    pub shard: Option<Sharding>,
    /// `--start-at`: the wall-clock instant the recorded phase begins (load starts
    /// `--warmup` before it; connections open a second before that).
    pub start_at: Option<SystemTime>,
}

/// A bad setting, named by the flag that sets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError {
    pub flag: &'static str,
    pub message: String,
}

impl UsageError {
    pub fn new(flag: &'static str, message: impl Into<String>) -> UsageError {
        UsageError {
            flag,
            message: message.into(),
        }
    }
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.flag, self.message)
    }
}

impl std::error::Error for UsageError {}

impl Config {
    /// wrk-like defaults: 64 connections, one thread per core, 10 s, closed loop.
    pub fn new(url: impl Into<String>) -> Config {
        Config {
            url: url.into(),
            connections: 64,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            duration: Some(Duration::from_secs(10)),
            requests: None,
            rate: None,
            stages: Vec::new(),
            pipeline: 1,
            method: "GET".to_string(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            connect_concurrency: DEFAULT_CONNECT_CONCURRENCY,
            warmup: Duration::ZERO,
            server_pids: Vec::new(),
            requests_per_conn: None,
            targets: Vec::new(),
            targets_file: String::new(),
            tls: TlsOptions::default(),
            shard: None,
            start_at: None,
        }
    }

    /// What the run loads, as reports name it: the URL, or with `--targets` the file (a mix
    /// has no one URL, and the first target must never pass for the whole run).
    pub fn load_name(&self) -> &str {
        match self.targets.is_empty() {
            true => &self.url,
            false => &self.targets_file,
        }
    }

    /// Open loop: the constant rate or the stages (`None`: closed loop).
    pub fn open_loop_rate(&self) -> Option<Rate> {
        match (self.rate, self.stages.is_empty()) {
            (Some(rate), _) => Some(Rate::Constant(rate)),
            (None, false) => Some(Rate::Stages(self.stages.clone())),
            (None, true) => None,
        }
    }

    /// Open loop: the requests per second offered, on average over the run.
    pub fn offered_rate(&self) -> Option<f64> {
        match self.open_loop_rate()? {
            Rate::Constant(rate) => Some(rate),
            Rate::Stages(stages) => {
                let length = crate::schedule::ramp::length(&stages).as_secs_f64();
                Some(crate::schedule::ramp::Ramp::new(&stages, 1.0).due(length) / length)
            }
        }
    }

    /// Check every setting; returns what the run needs of them, derived once.
    pub fn validate(&self) -> Result<Plan, UsageError> {
        let target = Url::parse(&self.url).map_err(|m| UsageError::new("URL", m))?;
        if !target.tls {
            let t = &self.tls;
            let flag = [
                (t.cacert.is_some(), "--cacert"),
                (t.insecure, "--insecure"),
                (t.no_resume, "--no-tls-resume"),
            ]
            .into_iter()
            .find_map(|(given, flag)| given.then_some(flag));
            if let Some(flag) = flag {
                return Err(UsageError::new(flag, "applies to https:// targets only"));
            }
        }
        let positive = |flag, value: usize| match value {
            0 => Err(UsageError::new(flag, "must be at least 1 (got 0)")),
            _ => Ok(()),
        };
        positive("--connections", self.connections)?;
        positive("--threads", self.threads)?;
        positive("--pipeline", self.pipeline)?;
        positive("--connect-concurrency", self.connect_concurrency)?;
        at_most("--connections", self.connections, MAX_CONNECTIONS)?;
        at_most("--threads", self.threads, MAX_THREADS)?;
        at_most("--pipeline", self.pipeline, MAX_PIPELINE)?;
        at_most("--connect-concurrency", self.connect_concurrency, MAX_CONNECTIONS)?;
        for (flag, value) in [
            ("--duration", self.duration.unwrap_or_default()),
            ("--timeout", self.timeout),
            ("--connect-timeout", self.connect_timeout),
            ("--warmup", self.warmup),
        ] {
            if value > MAX_DURATION {
                return Err(UsageError::new(flag, "must be at most 365 days"));
            }
        }
        if let Some(rate) = self.rate
            && !(rate >= 1.0 && rate.is_finite())
        {
            return Err(UsageError::new(
                "--rate",
                format!("must be at least 1 request per second (got {rate})"),
            ));
        }
        if !self.stages.is_empty() {
            let length = crate::schedule::ramp::length(&self.stages);
            if self.rate.is_some() {
                return Err(UsageError::new("--stages", "give --stages or --rate, not both"));
            }
            if self.duration != Some(length) {
                return Err(UsageError::new(
                    "--stages",
                    format!("the run lasts as long as the stages ({length:?}); drop --duration"),
                ));
            }
            if !self.warmup.is_zero() {
                return Err(UsageError::new(
                    "--stages",
                    "no --warmup with --stages: make the first stage the warm-up",
                ));
            }
        }
        if let Some(at) = self.start_at
            && let Err(e) = at.duration_since(SystemTime::now())
        {
            return Err(UsageError::new(
                "--start-at",
                format!("the start is {:.3}s in the past", e.duration().as_secs_f64()),
            ));
        }
        if self.requests_per_conn == Some(0) {
            return Err(UsageError::new(
                "--requests-per-conn",
                "must be at least 1 (got 0)",
            ));
        }
        if self.requests == Some(0) {
            return Err(UsageError::new("--requests", "must be at least 1 (got 0)"));
        }
        match self.duration {
            Some(d) if d.is_zero() => {
                return Err(UsageError::new("--duration", "must be longer than zero"));
            }
            None if self.requests.is_none() => {
                return Err(UsageError::new(
                    "--duration",
                    "a run needs a duration or a request count",
                ));
            }
            _ => {}
        }
        if self.timeout.is_zero() {
            return Err(UsageError::new("--timeout", "must be longer than zero"));
        }
        if self.connect_timeout.is_zero() {
            return Err(UsageError::new("--connect-timeout", "must be longer than zero"));
        }
        check_request("--method", "--header", &self.method, &self.headers)?;
        let mut urls = Vec::with_capacity(self.targets.len());
        for t in &self.targets {
            let at =
                |m: String| UsageError::new("--targets", format!("{}:{}: {m}", self.targets_file, t.line));
            let parsed = Url::parse(&t.url).map_err(at)?;
            if (parsed.tls, parsed.host.as_str(), parsed.port)
                != (target.tls, target.host.as_str(), target.port)
            {
                let scheme = if target.tls { "https" } else { "http" };
                return Err(at(format!(
                    "every target must use {scheme}://{}:{} (the first target's)",
                    target.host, target.port
                )));
            }
            check_request("--targets", "--targets", &t.method, &t.headers).map_err(|e| at(e.message))?;
            urls.push(parsed);
        }
        let (names, group_of) = self.target_groups();
        let groups = names.len();
        if groups > MAX_GROUPS {
            return Err(UsageError::new(
                "--targets",
                format!(
                    "{}: {groups} distinct target names, at most {MAX_GROUPS} (each is a histogram \
                     per thread; give related targets one name=)",
                    self.targets_file
                ),
            ));
        }
        if let Some(pid) = self.server_pids.iter().find(|p| !crate::server_cpu::exists(**p)) {
            return Err(UsageError::new(
                "--server-pid",
                format!("no process with PID {pid} (or /proc/{pid}/stat is not readable)"),
            ));
        }
        let mix = if self.targets.is_empty() {
            Mix::single(&self.method, &target, &self.headers, &self.body)
        } else {
            Mix::of_targets(&self.targets, &urls, group_of, groups)
        };
        let mut mix = match self.requests_per_conn {
            Some(_) => mix.with_closing(
                &self.method,
                &target,
                &self.headers,
                &self.body,
                &self.targets,
                &urls,
            ),
            None => mix,
        };
        if let Some(sharding) = &self.shard {
            let len = mix.order.len() as u64;
            mix.order.rotate_left((sharding.first_target % len) as usize);
        }
        Ok(Plan { target, mix })
    }

    /// Report group names in order of first appearance, and each target's group.
    pub fn target_groups(&self) -> (Vec<String>, Vec<u16>) {
        let mut names: Vec<String> = Vec::new();
        let mut index: HashMap<&str, u16> = HashMap::new();
        let groups = self
            .targets
            .iter()
            .map(|t| {
                *index.entry(&t.name).or_insert_with(|| {
                    names.push(t.name.clone());
                    // At most MAX_GROUPS names pass validation, so this never wraps.
                    (names.len() - 1) as u16
                })
            })
            .collect();
        (names, groups)
    }
}

/// Half the smallest common listen backlog (nginx's 511; Linux caps any at somaxconn, 4096
/// by default), and enough to open 10k loopback connections in about a quarter second.
pub const DEFAULT_CONNECT_CONCURRENCY: usize = 256;

/// Sanity bounds: beyond these a typo is likelier than intent (and nanosecond
/// arithmetic must not overflow).
const MAX_CONNECTIONS: usize = 1_000_000;
const MAX_THREADS: usize = 1_024;
const MAX_PIPELINE: usize = 1_024;
const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

fn at_most(flag: &'static str, value: usize, max: usize) -> Result<(), UsageError> {
    if value > max {
        return Err(UsageError::new(
            flag,
            format!("must be at most {max} (got {value})"),
        ));
    }
    Ok(())
}

/// A method that is a token, header names that are tokens, values without line breaks.
fn check_request(
    method_flag: &'static str,
    header_flag: &'static str,
    method: &str,
    headers: &[(String, String)],
) -> Result<(), UsageError> {
    if !is_token(method.as_bytes()) {
        return Err(UsageError::new(
            method_flag,
            format!("'{method}' is not a valid HTTP method"),
        ));
    }
    for (name, value) in headers {
        if !is_token(name.as_bytes()) {
            return Err(UsageError::new(
                header_flag,
                format!("'{name}' is not a valid header name"),
            ));
        }
        if value.bytes().any(|b| b == b'\r' || b == b'\n') {
            return Err(UsageError::new(
                header_flag,
                format!("the value of '{name}' contains a line break"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flag_of(config: &Config) -> &'static str {
        config.validate().unwrap_err().flag
    }

    #[test]
    fn defaults_are_valid() {
        assert!(Config::new("http://127.0.0.1:1/").validate().is_ok());
    }

    #[test]
    fn each_bad_setting_names_its_flag() {
        let base = Config::new("http://127.0.0.1:1/");
        type Mutation = Box<dyn Fn(&mut Config)>;
        let cases: Vec<(&str, Mutation)> = vec![
            ("URL", Box::new(|c| c.url = "ftp://x/".into())),
            ("--insecure", Box::new(|c| c.tls.insecure = true)),
            ("--connections", Box::new(|c| c.connections = 0)),
            ("--threads", Box::new(|c| c.threads = 0)),
            ("--pipeline", Box::new(|c| c.pipeline = 0)),
            ("--pipeline", Box::new(|c| c.pipeline = 5_000)),
            ("--connect-concurrency", Box::new(|c| c.connect_concurrency = 0)),
            (
                "--connect-concurrency",
                Box::new(|c| c.connect_concurrency = 2_000_000),
            ),
            ("--connections", Box::new(|c| c.connections = 2_000_000)),
            ("--warmup", Box::new(|c| c.warmup = Duration::from_secs(u64::MAX))),
            ("--rate", Box::new(|c| c.rate = Some(0.5))),
            ("--server-pid", Box::new(|c| c.server_pids = vec![u32::MAX])),
            ("--rate", Box::new(|c| c.rate = Some(f64::NAN))),
            ("--requests", Box::new(|c| c.requests = Some(0))),
            ("--duration", Box::new(|c| c.duration = Some(Duration::ZERO))),
            ("--duration", Box::new(|c| c.duration = None)),
            (
                "--start-at",
                Box::new(|c| c.start_at = Some(SystemTime::now() - Duration::from_secs(1))),
            ),
            ("--timeout", Box::new(|c| c.timeout = Duration::ZERO)),
            ("--method", Box::new(|c| c.method = "GE T".into())),
            (
                "--header",
                Box::new(|c| c.headers = vec![("a b".into(), "v".into())]),
            ),
            (
                "--targets",
                Box::new(|c| {
                    let t = |i: usize| TargetSpec {
                        method: "GET".into(),
                        url: "http://127.0.0.1:1/".into(),
                        headers: Vec::new(),
                        body: Vec::new(),
                        weight: 1,
                        name: format!("n{i}"),
                        line: 1,
                    };
                    c.targets = (0..=MAX_GROUPS).map(t).collect();
                }),
            ),
        ];
        for (flag, mutate) in cases {
            let mut config = base.clone();
            mutate(&mut config);
            assert_eq!(flag_of(&config), flag);
        }
    }
}
