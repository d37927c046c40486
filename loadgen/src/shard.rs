//! Splitting a run: over a process's threads, and with `--shard I/N` over N processes (on
//! as many machines) so that the N shards together send what one process would. Counts
//! split as integers (the parts add up exactly); rates split in micro-requests per second,
//! so the shards' rates add up to the whole rate exactly too.

use serde::{Deserialize, Serialize};

use crate::config::{Config, UsageError};

/// More shards than this is likelier a typo than a fleet.
const MAX_SHARDS: u64 = 10_000;
/// Rates split in these units (micro-requests per second).
const RATE_UNITS: f64 = 1e6;

/// Part `i` of `total` split over `parts` as evenly as possible (the first `total % parts`
/// parts get one more).
pub fn share(total: u64, parts: usize, i: usize) -> u64 {
    let parts = parts as u64;
    total / parts + u64::from((i as u64) < total % parts)
}

/// `--shard I/N`: this process is shard `index` (from 1) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// What `--shard` did to a config: which shard, the whole run it is part of (so that merging
/// can refuse shards of different runs), and where in the whole run's request sequence this
/// shard's requests begin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sharding {
    #[serde(flatten)]
    pub shard: Shard,
    /// The whole run's settings in words (target or mix, loop, rate, connections, length).
    pub run: String,
    /// Position in the weighted round-robin order where this shard starts.
    pub first_target: u64,
}

impl Shard {
    /// `I/N` with 1 <= I <= N.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| format!("expected I/N, e.g. 2/3 (got '{text}')"))?;
        let number = |s: &str| s.trim().parse::<u64>().ok();
        match (number(i), number(n)) {
            (Some(index), Some(count)) if (1..=count).contains(&index) && count <= MAX_SHARDS => {
                Ok(Shard { index, count })
            }
            (Some(_), Some(count)) if count > MAX_SHARDS => {
                Err(format!("at most {MAX_SHARDS} shards (got {count})"))
            }
            (Some(_), Some(_)) => Err(format!("I must be 1 to N (got '{text}')")),
            _ => Err(format!(
                "expected I/N with whole numbers, e.g. 2/3 (got '{text}')"
            )),
        }
    }

    fn parts(&self) -> usize {
        self.count as usize
    }

    fn position(&self) -> usize {
        (self.index - 1) as usize
    }

    /// This shard's part of a count.
    pub fn part(&self, total: u64) -> u64 {
        share(total, self.parts(), self.position())
    }

    /// The parts of the shards before this one, added up.
    pub fn before(&self, total: u64) -> u64 {
        (0..self.position()).map(|i| share(total, self.parts(), i)).sum()
    }

    /// This shard's part of a rate (requests per second), exact to a micro-request per
    /// second: the N parts add up to the whole in those units.
    pub fn rate(&self, rate: f64) -> f64 {
        self.part((rate * RATE_UNITS).round() as u64) as f64 / RATE_UNITS
    }

    /// Turn `config` (the whole run) into this shard's part of it: connections, `-n`, the
    /// rate or each stage's rate, and the offset into the request mix.
    pub fn apply(&self, config: &mut Config) -> Result<(), UsageError> {
        let whole = describe(config);
        let fail = |what: String| Err(UsageError::new("--shard", what));
        if (config.connections as u64) < self.count {
            return fail(format!(
                "{} shards need at least {} connections (got -c {})",
                self.count, self.count, config.connections
            ));
        }
        if let Some(n) = config.requests.filter(|&n| n < self.count) {
            return fail(format!(
                "{} shards need at least {} requests (got -n {n})",
                self.count, self.count
            ));
        }
        if let Some(rate) = config.rate
            && rate.is_finite()
            && self.rate(rate) < 1.0
        {
            return fail(format!(
                "each of {} shards needs at least 1 request per second (got -R {rate})",
                self.count
            ));
        }
        // One process sends the order's positions 0, 1, 2, ...: shard i starts where the
        // shards before it left off (their -n, or else their part of one cycle), so the
        // union of the shards sends the same mix as one process.
        let cycle: u64 = match config.targets.is_empty() {
            true => 1,
            false => config.targets.iter().map(|t| u64::from(t.weight)).sum(),
        };
        let first_target = self.before(config.requests.unwrap_or(cycle)) % cycle.max(1);
        config.connections = self.part(config.connections as u64) as usize;
        config.requests = config.requests.map(|n| self.part(n));
        config.rate = config.rate.map(|r| self.rate(r));
        for stage in &mut config.stages {
            stage.rate = self.rate(stage.rate);
        }
        config.shard = Some(Sharding {
            shard: *self,
            run: whole,
            first_target,
        });
        Ok(())
    }
}

/// The whole run in words: two shards belong to the same run when these agree.
fn describe(config: &Config) -> String {
    let what = match config.targets.is_empty() {
        true => format!(
            "{} {} (body {:016x}, headers {:016x})",
            config.method,
            config.url,
            fnv1a(&config.body),
            fnv1a(format!("{:?}", config.headers).as_bytes())
        ),
        false => format!("mix {:016x}", fnv1a(format!("{:?}", config.targets).as_bytes())),
    };
    let load = match (config.rate, config.stages.is_empty()) {
        (Some(rate), _) => format!("open loop at {rate} req/s"),
        (None, false) => format!("open loop, stages {:?}", config.stages),
        (None, true) => "closed loop".to_string(),
    };
    let mut text = format!(
        "{what}, {load}, {} connections, pipeline {}",
        config.connections, config.pipeline
    );
    if let Some(d) = config.duration {
        text += &format!(", {}", humantime::format_duration(d));
    }
    if let Some(n) = config.requests {
        text += &format!(", {n} requests");
    }
    text
}

/// FNV-1a, 64 bits: a fingerprint that is the same on every machine and build.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mix::TargetSpec;
    use crate::schedule::ramp;

    fn shards(n: u64) -> impl Iterator<Item = Shard> {
        (1..=n).map(move |index| Shard { index, count: n })
    }

    #[test]
    fn thread_shares_add_up() {
        let parts: Vec<u64> = (0..3).map(|i| share(10, 3, i)).collect();
        assert_eq!(parts, vec![4, 3, 3]);
    }

    #[test]
    fn parses_i_of_n() {
        assert_eq!(Shard::parse("2/3"), Ok(Shard { index: 2, count: 3 }));
        for bad in ["", "3", "0/3", "4/3", "1/0", "a/3", "1/-3", "1/3/4", "1/20000"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn counts_and_rates_add_up_exactly_for_one_to_seven_shards() {
        let counts = [1u64, 2, 7, 10, 64, 999, 1_000_003];
        let rates = [1.0, 7.0, 100.0, 333.333, 12_345.678901, 1e9 / 7.0];
        for n in 1..=7 {
            for total in counts.iter().filter(|&&t| t >= n) {
                let parts: Vec<u64> = shards(n).map(|s| s.part(*total)).collect();
                assert_eq!(parts.iter().sum::<u64>(), *total, "{total} over {n}");
                assert!(parts.iter().max().unwrap() - parts.iter().min().unwrap() <= 1);
                for s in shards(n) {
                    assert_eq!(s.before(*total), parts[..s.position()].iter().sum::<u64>());
                }
            }
            for rate in rates {
                let micro: u64 = shards(n)
                    .map(|s| (s.rate(rate) * RATE_UNITS).round() as u64)
                    .sum();
                assert_eq!(micro, (rate * RATE_UNITS).round() as u64, "{rate} over {n}");
            }
        }
    }

    #[test]
    fn a_config_splits_into_shards_that_add_up_to_it() {
        for n in 1..=7 {
            let mut whole = Config::new("http://127.0.0.1:1/");
            (whole.connections, whole.requests, whole.rate) = (100, Some(1_001), Some(10_000.0));
            let parts: Vec<Config> = shards(n)
                .map(|s| {
                    let mut c = whole.clone();
                    s.apply(&mut c).unwrap();
                    c
                })
                .collect();
            let sum = |f: &dyn Fn(&Config) -> u64| parts.iter().map(f).sum::<u64>();
            assert_eq!(sum(&|c| c.connections as u64), 100);
            assert_eq!(sum(&|c| c.requests.unwrap()), 1_001);
            assert_eq!(
                sum(&|c| (c.rate.unwrap() * RATE_UNITS) as u64),
                10_000 * 1_000_000
            );
            let runs: Vec<&str> = parts
                .iter()
                .map(|c| c.shard.as_ref().unwrap().run.as_str())
                .collect();
            assert!(runs.iter().all(|r| *r == runs[0]), "{runs:?}");
            assert!(runs[0].contains("100 connections"), "{}", runs[0]);
        }
    }

    #[test]
    fn each_stage_rate_is_split() {
        let mut config = Config::new("http://127.0.0.1:1/");
        config.stages = ramp::parse("10s:100,10s:7,5s:0").unwrap();
        let split: Vec<Vec<f64>> = shards(3)
            .map(|s| {
                let mut c = config.clone();
                s.apply(&mut c).unwrap();
                c.stages.iter().map(|st| st.rate).collect()
            })
            .collect();
        assert_eq!(split[0], [33.333334, 2.333334, 0.0]);
        assert_eq!(split[2], [33.333333, 2.333333, 0.0]);
        for (i, stage) in config.stages.iter().enumerate() {
            let micro: f64 = split.iter().map(|s| (s[i] * RATE_UNITS).round()).sum();
            assert_eq!(micro, stage.rate * RATE_UNITS);
        }
    }

    #[test]
    fn shards_continue_the_mix_where_the_previous_left_off() {
        let target = |name: &str, weight| TargetSpec {
            method: "GET".into(),
            url: format!("http://127.0.0.1:1/{name}"),
            headers: Vec::new(),
            body: Vec::new(),
            weight,
            name: name.into(),
            line: 1,
        };
        let mut config = Config::new("http://127.0.0.1:1/");
        config.targets = vec![target("a", 1), target("b", 2), target("c", 3)];
        let first = |c: &Config, s: Shard| {
            let mut c = c.clone();
            s.apply(&mut c).unwrap();
            c.shard.unwrap().first_target
        };
        // Without -n: spread over one cycle of 6.
        let starts: Vec<u64> = shards(4).map(|s| first(&config, s)).collect();
        assert_eq!(starts, [0, 2, 4, 5]);
        // With -n 10 over 3 (4, 3, 3): positions 0, 4 and 7 of the sequence, modulo 6.
        config.requests = Some(10);
        let starts: Vec<u64> = shards(3).map(|s| first(&config, s)).collect();
        assert_eq!(starts, [0, 4, 1]);
    }

    #[test]
    fn too_little_to_split_names_the_flag() {
        let mut config = Config::new("http://127.0.0.1:1/");
        config.connections = 2;
        let third = Shard { index: 3, count: 3 };
        assert_eq!(third.apply(&mut config.clone()).unwrap_err().flag, "--shard");
        config.connections = 3;
        config.requests = Some(2);
        assert!(
            third
                .apply(&mut config.clone())
                .unwrap_err()
                .message
                .contains("-n 2")
        );
        config.requests = None;
        config.rate = Some(2.0);
        assert!(
            third
                .apply(&mut config)
                .unwrap_err()
                .message
                .contains("1 request per second")
        );
    }
}
