//! A piecewise-linear rate (k6's ramping arrival rate): each stage goes linearly from the
//! previous stage's rate (0 before the first) to its own over its duration. The number of
//! requests due by time t is the integral of the rate, N(t); request k is intended at the
//! t where N(t) = k, solved exactly per stage, so intended times follow the ramp with no
//! drift and coordinated-omission correction holds as for a constant rate.

use std::time::Duration;

/// One stage as the user gave it: reach `rate` (requests per second) over `duration`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    pub duration: Duration,
    pub rate: f64,
}

/// A stage in absolute terms: from `r0` to `r1` over `[start_s, start_s + length_s)`, with
/// `before` requests due before it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Segment {
    start_s: f64,
    length_s: f64,
    r0: f64,
    r1: f64,
    before: f64,
}

impl Segment {
    fn count(&self) -> f64 {
        (self.r0 + self.r1) / 2.0 * self.length_s
    }

    /// Requests due `t` seconds into the segment.
    fn due(&self, t: f64) -> f64 {
        let t = t.clamp(0.0, self.length_s);
        self.r0 * t + (self.r1 - self.r0) * t * t / (2.0 * self.length_s)
    }

    /// Seconds into the segment at which `m` requests are due (0 <= m <= count), in the
    /// form that stays exact for flat, rising, falling and from-zero ramps.
    fn time_of(&self, m: f64) -> f64 {
        let slope = (self.r1 - self.r0) / self.length_s;
        let root = (self.r0 * self.r0 + 2.0 * slope * m).max(0.0).sqrt();
        match self.r0 + root {
            0.0 => 0.0,
            sum => 2.0 * m / sum,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ramp {
    segments: Vec<Segment>,
    total: f64,
}

impl Ramp {
    /// `share` scales every rate (a thread's share of the total).
    pub fn new(stages: &[Stage], share: f64) -> Ramp {
        let (mut start_s, mut before, mut previous) = (0.0, 0.0, 0.0);
        let mut segments = Vec::with_capacity(stages.len());
        for stage in stages {
            let length_s = stage.duration.as_secs_f64();
            let rate = stage.rate * share;
            if length_s > 0.0 {
                let segment = Segment {
                    start_s,
                    length_s,
                    r0: previous,
                    r1: rate,
                    before,
                };
                before += segment.count();
                segments.push(segment);
            }
            start_s += length_s;
            previous = rate;
        }
        Ramp {
            segments,
            total: before,
        }
    }

    /// Requests due by `t` seconds after the start (N(t)).
    pub fn due(&self, t: f64) -> f64 {
        self.segments
            .iter()
            .take_while(|s| s.start_s <= t)
            .last()
            .map_or(0.0, |s| s.before + s.due(t - s.start_s))
    }

    /// Seconds after the start at which request `k` (from 0) is intended; `None` past the
    /// last stage.
    pub fn time_of(&self, k: u64) -> Option<f64> {
        let k = k as f64;
        if k >= self.total {
            return None;
        }
        let segment = self
            .segments
            .iter()
            .rev()
            .find(|s| s.before <= k && s.count() > 0.0)?;
        Some(segment.start_s + segment.time_of(k - segment.before))
    }

    /// Highest rate reached (requests per second).
    pub fn peak(&self) -> f64 {
        self.segments.iter().map(|s| s.r0.max(s.r1)).fold(0.0, f64::max)
    }
}

/// Total length of `stages`.
pub fn length(stages: &[Stage]) -> Duration {
    stages.iter().map(|s| s.duration).sum()
}

/// `DUR:RATE,DUR:RATE,...`, e.g. `10s:1000,30s:1000,5s:0`.
pub fn parse(text: &str) -> Result<Vec<Stage>, String> {
    let stages = text
        .split(',')
        .map(|item| {
            let (duration, rate) = item
                .trim()
                .split_once(':')
                .ok_or_else(|| format!("'{item}': expected DURATION:RATE, e.g. 10s:1000"))?;
            let duration = humantime::parse_duration(duration.trim())
                .map_err(|e| format!("'{item}': bad duration: {e} (examples: 10s, 1m, 500ms)"))?;
            let rate: f64 = rate
                .trim()
                .parse()
                .ok()
                .filter(|r: &f64| r.is_finite() && *r >= 0.0)
                .ok_or_else(|| format!("'{item}': the rate must be a number of requests per second >= 0"))?;
            Ok(Stage { duration, rate })
        })
        .collect::<Result<Vec<_>, String>>()?;
    if length(&stages).is_zero() {
        return Err("the stages must last longer than zero".into());
    }
    if stages.iter().all(|s| s.rate == 0.0) {
        return Err("at least one stage needs a rate above 0".into());
    }
    Ok(stages)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stages(text: &str) -> Vec<Stage> {
        parse(text).unwrap()
    }

    #[test]
    fn the_count_is_the_integral_of_the_ramp() {
        // 0 -> 100/s over 10 s (500), hold 10 s (1000), down to 0 over 4 s (200).
        let ramp = Ramp::new(&stages("10s:100,10s:100,4s:0"), 1.0);
        assert_eq!(ramp.due(10.0), 500.0);
        assert_eq!(ramp.due(20.0), 1_500.0);
        assert_eq!(ramp.due(24.0), 1_700.0);
        assert_eq!(ramp.due(100.0), 1_700.0);
        assert_eq!(ramp.peak(), 100.0);
        // Request k is intended where N(t) = k.
        for k in [0u64, 1, 2, 50, 499, 500, 777, 1_499, 1_500, 1_699] {
            let t = ramp.time_of(k).unwrap();
            assert!(
                (ramp.due(t) - k as f64).abs() < 1e-6,
                "k {k}: t {t} N {}",
                ramp.due(t)
            );
        }
        assert_eq!(ramp.time_of(1_700), None);
        // Halfway up the first ramp a quarter of its 500 are due (N = 100 t^2 / 20).
        assert!((ramp.time_of(125).unwrap() - 5.0).abs() < 1e-9);
    }

    #[test]
    fn intended_times_rise_and_a_zero_length_stage_is_a_jump() {
        let ramp = Ramp::new(&stages("0s:1000,1s:1000,1s:3000"), 0.5);
        assert_eq!(ramp.due(1.0), 500.0);
        assert_eq!(ramp.due(2.0), 500.0 + 1_000.0);
        let times: Vec<f64> = (0..1_500).map(|k| ramp.time_of(k).unwrap()).collect();
        assert!(times.windows(2).all(|w| w[0] < w[1]));
        assert!((times[1] - 0.002).abs() < 1e-12, "{}", times[1]);
    }

    #[test]
    fn bad_stages_say_why() {
        for bad in [
            "",
            "10s",
            "10s:x",
            "x:10",
            "10s:-1",
            "10s:inf",
            "0s:10",
            "10s:0,5s:0",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
