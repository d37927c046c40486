//! The search itself, apart from running load: from a start rate, grow geometrically until
//! a step fails, then bisect (geometric midpoint) until the bracket of highest pass and
//! lowest failure is within the precision, or the step budget is spent. Each rate is
//! measured once; the verdicts come from `measure`.

use serde::{Deserialize, Serialize};

/// How a step came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every SLO held and the offered rate was delivered.
    Pass,
    /// An SLO broke, or the target could not take the offered rate (requests waited for
    /// a connection): the target's limit.
    Fail,
    /// loadgen could not deliver the offered rate: nothing is known about the target here.
    Generator,
}

/// What ended the search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitedBy {
    /// A step failed the SLO: the capacity is the highest passing rate.
    Slo,
    /// loadgen saturated first: the capacity is above the highest passing rate.
    Generator,
    /// `--max-rate` passed: the capacity is at least that.
    MaxRate,
    /// `--max-steps` ran out before any step failed: the capacity is above the last rate.
    MaxSteps,
}

/// The search's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    pub start: f64,
    /// Stop when lowest failure / highest pass - 1 is at most this (0.02 = 2%).
    pub precision: f64,
    pub max_steps: usize,
    pub max_rate: Option<f64>,
}

/// Growth factor per step until the first failure.
const GROWTH: f64 = 2.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// Highest rate that passed (`None`: even the start rate failed).
    pub pass: Option<f64>,
    /// Lowest rate that failed the SLO, if any.
    pub fail: Option<f64>,
    /// Lowest rate loadgen could not deliver, if any.
    pub generator: Option<f64>,
    pub limited_by: LimitedBy,
    /// The bracket is within the precision (false when the step budget ran out first).
    pub converged: bool,
}

/// Runs `measure(rate)` for each step's rate and returns what was found (`None` from
/// `measure` ends the search at once, e.g. when a step could not be run). A step loadgen
/// could not deliver bounds the search from above like a failure, so the search narrows
/// in on whichever limit comes first, the target's or loadgen's, and says which.
pub fn search(bounds: Bounds, mut measure: impl FnMut(f64) -> Option<Verdict>) -> Found {
    let cap = |rate: f64| bounds.max_rate.map_or(rate, |max| rate.min(max));
    // Highest pass, lowest SLO failure, lowest rate loadgen could not deliver.
    let (mut pass, mut fail, mut generator): (Option<f64>, Option<f64>, Option<f64>) = (None, None, None);
    let found = |pass, fail, generator: Option<f64>, converged| {
        let limited_by = match (fail, generator) {
            (Some(f), Some(g)) if g < f => LimitedBy::Generator,
            (None, Some(_)) => LimitedBy::Generator,
            (Some(_), _) => LimitedBy::Slo,
            (None, None) => LimitedBy::MaxSteps,
        };
        Found {
            pass,
            fail,
            generator,
            limited_by,
            converged,
        }
    };
    let mut rate = cap(bounds.start);
    for _ in 0..bounds.max_steps {
        let Some(verdict) = measure(rate) else {
            break;
        };
        match verdict {
            Verdict::Pass => pass = Some(rate),
            Verdict::Fail => fail = Some(fail.map_or(rate, |f: f64| f.min(rate))),
            Verdict::Generator => generator = Some(generator.map_or(rate, |g: f64| g.min(rate))),
        }
        let upper = match (fail, generator) {
            (Some(f), Some(g)) => Some(f.min(g)),
            (f, g) => f.or(g),
        };
        rate = match (pass, upper) {
            (None, Some(_)) => break,
            (Some(p), None) if bounds.max_rate.is_some_and(|max| p >= max) => {
                return Found {
                    limited_by: LimitedBy::MaxRate,
                    ..found(pass, fail, generator, true)
                };
            }
            (Some(p), None) => cap(p * GROWTH),
            (Some(p), Some(u)) if u / p - 1.0 <= bounds.precision => {
                return found(pass, fail, generator, true);
            }
            (Some(p), Some(u)) => (p * u).sqrt(),
            (None, None) => unreachable!("a measured step passed or failed"),
        };
    }
    found(pass, fail, generator, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(start: f64) -> Bounds {
        Bounds {
            start,
            precision: 0.02,
            max_steps: 30,
            max_rate: None,
        }
    }

    /// A target that passes below `capacity`; returns what was found and the rates tried.
    fn against(capacity: f64, bounds: Bounds) -> (Found, Vec<f64>) {
        let mut tried = Vec::new();
        let found = search(bounds, |rate| {
            tried.push(rate);
            Some(if rate <= capacity {
                Verdict::Pass
            } else {
                Verdict::Fail
            })
        });
        (found, tried)
    }

    #[test]
    fn brackets_the_capacity_within_the_precision() {
        for capacity in [137.0, 1_000.0, 5_555.0, 99_999.0, 1_600.0, 3_199.0] {
            // The default start is a tenth of a closed-loop probe, which is near capacity.
            let (found, tried) = against(capacity, bounds(capacity / 10.0 * 1.07));
            let (pass, fail) = (found.pass.unwrap(), found.fail.unwrap());
            assert!(pass <= capacity && capacity < fail, "{capacity}: {pass}..{fail}");
            assert!(fail / pass - 1.0 <= 0.02, "{capacity}: {pass}..{fail}");
            assert!(found.converged && found.limited_by == LimitedBy::Slo);
            assert!(tried.len() <= 12, "{capacity}: {} steps {tried:?}", tried.len());
        }
    }

    #[test]
    fn at_most_twelve_steps_from_a_start_a_tenth_to_a_thirtieth_of_capacity() {
        for divisor in [10.0, 15.0, 20.0, 30.0] {
            let (found, tried) = against(10_000.0, bounds(10_000.0 / divisor));
            assert!(found.converged, "{divisor}");
            assert!(tried.len() <= 12, "1/{divisor}: {} steps", tried.len());
        }
    }

    #[test]
    fn a_failing_start_stops_at_once() {
        let (found, tried) = against(50.0, bounds(100.0));
        assert_eq!(tried, vec![100.0]);
        assert_eq!((found.pass, found.fail), (None, Some(100.0)));
    }

    #[test]
    fn the_generator_limit_is_narrowed_like_a_failure_but_reported_as_loadgens() {
        let run = |target: f64, generator: f64| {
            search(bounds(1_000.0), |rate| {
                Some(match rate {
                    r if r > generator => Verdict::Generator,
                    r if r > target => Verdict::Fail,
                    _ => Verdict::Pass,
                })
            })
        };
        // loadgen gives out first: capacity is above its limit.
        let found = run(1e9, 5_000.0);
        let pass = found.pass.unwrap();
        assert!(pass <= 5_000.0 && 5_000.0 / pass - 1.0 <= 0.02, "{found:?}");
        assert_eq!((found.fail, found.limited_by), (None, LimitedBy::Generator));
        assert!(found.converged);
        // The target gives out first, with loadgen's limit above it.
        let found = run(3_000.0, 5_000.0);
        assert_eq!(found.limited_by, LimitedBy::Slo);
        let (pass, fail) = (found.pass.unwrap(), found.fail.unwrap());
        assert!(pass <= 3_000.0 && fail / pass - 1.0 <= 0.02, "{found:?}");
        // loadgen fails at the very start: nothing is known.
        let found = run(1e9, 500.0);
        assert_eq!((found.pass, found.limited_by), (None, LimitedBy::Generator));
    }

    #[test]
    fn max_rate_caps_the_growth() {
        let mut b = bounds(1_000.0);
        b.max_rate = Some(3_000.0);
        let (found, tried) = against(1e9, b);
        assert_eq!(tried, vec![1_000.0, 2_000.0, 3_000.0]);
        assert_eq!(found.limited_by, LimitedBy::MaxRate);
        assert_eq!(found.pass, Some(3_000.0));
    }

    #[test]
    fn a_spent_step_budget_says_it_did_not_converge() {
        let mut b = bounds(1_000.0);
        b.max_steps = 5;
        let (found, tried) = against(5_000.0, b);
        assert_eq!(
            tried,
            vec![1_000.0, 2_000.0, 4_000.0, 8_000.0, 4_000.0 * 2f64.sqrt()]
        );
        assert!(!found.converged);
        assert_eq!(
            (found.pass, found.fail),
            (Some(4_000.0), Some(4_000.0 * 2f64.sqrt()))
        );
        assert_eq!(found.limited_by, LimitedBy::Slo);
        b.max_steps = 3;
        let (found, _) = against(1e9, b);
        assert_eq!(
            (found.pass, found.limited_by),
            (Some(4_000.0), LimitedBy::MaxSteps)
        );
    }
}
