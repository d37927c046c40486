//! The statistic behind `loadgen compare` and the CI gate: the relative change of a metric's
//! mean between two sets of runs, with a 95% confidence interval whose unit of evidence
//! follows how the samples depend on each other.
//!
//! Samples come as rounds (whole runs), each a series in time order: a run's per-second
//! figures, or one value per run for figures a report only has as a whole. Requests within
//! a run are autocorrelated, neighbouring seconds less so, and whole runs differ from each
//! other by more than their seconds do (where the process landed in memory, what else the
//! machine was doing that minute). Seconds of one run are therefore not independent
//! evidence about the next run, and the test depends on what there is:
//!
//! - **Three or more runs a side: the run is the unit.** Each run's mean is one sample and
//!   the interval is Welch's t-interval on the difference of the means, made relative to the
//!   base mean by the delta method. With so few samples the t quantile (4.3 at 2 degrees of
//!   freedom, 2.78 at 4) is what keeps the false-alarm rate at 5%: a bootstrap over 3 runs
//!   sees only 10 distinct resamples and its interval is too narrow (a two-stage bootstrap
//!   of runs and seconds flagged 21 of the 200 same-distribution pairs of the test below;
//!   Welch flags 8).
//! - **Interleaved runs (`--paired`): the pair of runs is the unit.** When base and new ran
//!   in turns (base 1, new 1, base 2, ...), each pair shared what the machine was doing that
//!   minute; the t-interval on the pairs' log ratios (Student's t, n-1 degrees of freedom)
//!   cancels that out, where Welch's would count it as noise on both sides.
//! - **Fewer runs: the second is the unit, within-run noise only.** A moving-block bootstrap
//!   of each run's seconds (blocks of ~n^(1/3), the usual rate for variance estimation, so a
//!   burst of slow neighbouring seconds moves together) gives a percentile interval. It
//!   cannot see run-to-run noise; the report says so, and asks for three runs a side.
//!
//! Why not benchstat's Mann-Whitney U test: it assumes independent samples (seconds of one
//! run are not), with 3 runs a side it can never reach p < 0.05, and it gives a p-value,
//! not a size: `--max-regression` needs "how much worse", which an interval answers. The
//! bootstrap's seed is fixed, so the same reports always give the same answer.

/// Two-sided coverage of the interval.
pub const CONFIDENCE: f64 = 0.95;
/// Bootstrap resamples per comparison.
pub const RESAMPLES: usize = 2_000;
/// Runs a side from which the run is the unit of evidence.
pub const MIN_RUNS: usize = 3;
/// Fewer seconds than this on a side (with fewer than `MIN_RUNS` runs) and there is no
/// interval to speak of: the verdict is "not enough samples".
pub const MIN_SECONDS: usize = 5;
const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// The change from base to new: relative (`new/base - 1`) when the base mean is not zero,
/// otherwise the plain difference (`new - base`, e.g. errors per second from none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub base_mean: f64,
    pub new_mean: f64,
    pub relative: bool,
    pub change: f64,
    /// The 95% confidence interval of `change`.
    pub low: f64,
    pub high: f64,
    pub test: Test,
}

/// Which interval was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Test {
    /// Welch's t on the runs' means.
    WelchRuns,
    /// Student's t on the log ratios of paired runs' means.
    PairedRuns,
    /// Moving-block bootstrap of seconds, blocks of this many seconds at most.
    BlockBootstrap { block: usize },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    Estimate(Estimate),
    NotEnoughSamples,
}

/// Samples in a side's rounds.
pub fn samples(rounds: &[Vec<f64>]) -> usize {
    rounds.iter().map(Vec::len).sum()
}

/// Block length for a round of `n` seconds.
pub fn block_len(n: usize) -> usize {
    ((n as f64).cbrt().round() as usize).clamp(1, n.max(1))
}

/// Compare `new` against `base`, each a list of rounds (runs) of samples.
pub fn compare(base: &[Vec<f64>], new: &[Vec<f64>]) -> Outcome {
    let runs = |rounds: &[Vec<f64>]| rounds.iter().filter(|r| !r.is_empty()).count();
    if runs(base) >= MIN_RUNS && runs(new) >= MIN_RUNS {
        return Outcome::Estimate(welch(&run_means(base), &run_means(new)));
    }
    if samples(base) < MIN_SECONDS || samples(new) < MIN_SECONDS {
        return Outcome::NotEnoughSamples;
    }
    Outcome::Estimate(block_bootstrap(base, new))
}

/// Like [`compare`], for runs made in turns: run i of `base` with run i of `new` (same
/// number of runs, `MIN_RUNS` or more; with fewer it is [`compare`]).
pub fn compare_paired(base: &[Vec<f64>], new: &[Vec<f64>]) -> Outcome {
    let (b, n) = (run_means(base), run_means(new));
    if b.len() != n.len() || b.len() < MIN_RUNS {
        return compare(base, new);
    }
    let relative = b.iter().all(|x| *x > 0.0) && n.iter().all(|x| *x > 0.0);
    let diffs: Vec<f64> = b
        .iter()
        .zip(&n)
        .map(|(b, n)| if relative { (n / b).ln() } else { n - b })
        .collect();
    let (mean, var_of_mean) = mean_and_var_of_mean(&diffs);
    let half = t_975((diffs.len() - 1) as f64) * var_of_mean.sqrt();
    let back = |d: f64| if relative { d.exp() - 1.0 } else { d };
    let (base_mean, _) = mean_and_var_of_mean(&b);
    let (new_mean, _) = mean_and_var_of_mean(&n);
    Outcome::Estimate(Estimate {
        base_mean,
        new_mean,
        relative,
        change: back(mean),
        low: back(mean - half),
        high: back(mean + half),
        test: Test::PairedRuns,
    })
}

fn run_means(rounds: &[Vec<f64>]) -> Vec<f64> {
    rounds
        .iter()
        .filter(|r| !r.is_empty())
        .map(|r| r.iter().sum::<f64>() / r.len() as f64)
        .collect()
}

fn mean_and_var_of_mean(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var / n)
}

fn welch(base: &[f64], new: &[f64]) -> Estimate {
    let (mb, vb) = mean_and_var_of_mean(base);
    let (mn, vn) = mean_and_var_of_mean(new);
    let relative = mb != 0.0;
    // Delta method for n/b - 1: the base's own uncertainty counts too.
    let (change, se) = match relative {
        true => (mn / mb - 1.0, (vn / (mb * mb) + mn * mn * vb / mb.powi(4)).sqrt()),
        false => (mn - mb, (vn + vb).sqrt()),
    };
    // Welch-Satterthwaite degrees of freedom, on the same scale as the variances.
    let (wb, wn) = match relative {
        true => (mn * mn * vb / mb.powi(4), vn / (mb * mb)),
        false => (vb, vn),
    };
    let df = match wb + wn {
        0.0 => f64::INFINITY,
        total => total * total / (wb * wb / (base.len() - 1) as f64 + wn * wn / (new.len() - 1) as f64),
    };
    let half = t_975(df) * se;
    Estimate {
        base_mean: mb,
        new_mean: mn,
        relative,
        change,
        low: change - half,
        high: change + half,
        test: Test::WelchRuns,
    }
}

/// Student's t 97.5% quantile (two-sided 95%), interpolated between whole degrees of
/// freedom (the larger value, so never too narrow).
fn t_975(df: f64) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042,
    ];
    match df {
        d if d.is_nan() || d < 1.0 => TABLE[0],
        d if d <= 30.0 => TABLE[d.floor() as usize - 1],
        // Within 0.002 of the true value beyond 30.
        d => 1.96 + 2.4 / d,
    }
}

fn block_bootstrap(base: &[Vec<f64>], new: &[Vec<f64>]) -> Estimate {
    let mean_of = |rounds: &[Vec<f64>]| rounds.iter().flatten().sum::<f64>() / samples(rounds) as f64;
    let (base_mean, new_mean) = (mean_of(base), mean_of(new));
    let relative = base_mean != 0.0;
    let change = |b: f64, n: f64| match relative {
        true if b == 0.0 && n == 0.0 => 0.0,
        true => n / b - 1.0,
        false => n - b,
    };
    let mut rng = XorShift(SEED);
    let mut changes: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            let b = resampled_mean(base, &mut rng);
            let n = resampled_mean(new, &mut rng);
            change(b, n)
        })
        .collect();
    changes.sort_by(f64::total_cmp);
    let tail = (1.0 - CONFIDENCE) / 2.0;
    let at = |q: f64| changes[((changes.len() - 1) as f64 * q).round() as usize];
    let longest = base.iter().chain(new).map(Vec::len).max().unwrap_or(1);
    Estimate {
        base_mean,
        new_mean,
        relative,
        change: change(base_mean, new_mean),
        low: at(tail),
        high: at(1.0 - tail),
        test: Test::BlockBootstrap {
            block: block_len(longest),
        },
    }
}

/// One bootstrap replicate's mean: each run's seconds redrawn by moving blocks.
fn resampled_mean(rounds: &[Vec<f64>], rng: &mut XorShift) -> f64 {
    let (mut sum, mut count) = (0.0, 0usize);
    for round in rounds.iter().filter(|r| !r.is_empty()) {
        let n = round.len();
        let block = block_len(n);
        let mut taken = 0;
        while taken < n {
            let start = rng.below(n - block + 1);
            let take = block.min(n - taken);
            sum += round[start..start + take].iter().sum::<f64>();
            taken += take;
        }
        count += n;
    }
    sum / count.max(1) as f64
}

/// xorshift64*: small, fast, and good enough to draw indices for a bootstrap.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (n > 0; the modulo bias is below 2^-40 for our n).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `rounds` runs of `seconds` samples around `level`: a per-run offset (sd `run_sd`)
    /// plus per-second noise (sd `second_sd`), normal by Box-Muller, from a fixed seed.
    fn runs(
        seed: u64,
        rounds: usize,
        seconds: usize,
        level: f64,
        run_sd: f64,
        second_sd: f64,
    ) -> Vec<Vec<f64>> {
        let mut rng = XorShift(seed);
        let mut normal = move || {
            let (u, v) = (rng.unit().max(1e-12), rng.unit());
            (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
        };
        (0..rounds)
            .map(|_| {
                let run = level * (1.0 + run_sd * normal());
                (0..seconds).map(|_| run * (1.0 + second_sd * normal())).collect()
            })
            .collect()
    }

    fn estimate(outcome: Outcome) -> Estimate {
        match outcome {
            Outcome::Estimate(e) => e,
            Outcome::NotEnoughSamples => panic!("expected an estimate"),
        }
    }

    #[test]
    fn identical_samples_show_no_change() {
        for rounds in [1, 3] {
            let a = runs(1, rounds, 5, 100_000.0, 0.02, 0.03);
            let e = estimate(compare(&a, &a));
            assert_eq!(e.change, 0.0);
            assert!(e.low < 0.0 && e.high > 0.0, "{e:?}");
            assert!(e.relative);
        }
    }

    #[test]
    fn a_shift_is_detected_and_sized() {
        for (rounds, test) in [(3, Test::WelchRuns), (1, Test::BlockBootstrap { block: 2 })] {
            let base = runs(2, rounds, 10, 100_000.0, 0.01, 0.02);
            let new = runs(3, rounds, 10, 90_000.0, 0.01, 0.02);
            let e = estimate(compare(&base, &new));
            assert_eq!(e.test, test);
            assert!(e.high < 0.0, "{e:?}");
            assert!(e.low < -0.10 + 0.02 && e.high > -0.10 - 0.02, "{e:?}");
        }
    }

    #[test]
    fn same_distribution_rarely_differs() {
        // 200 A/A pairs of 3 runs a side, drawn from one distribution where runs differ
        // more than seconds do: the 95% interval misses 0 in about 5% of them.
        let misses = (0..200u64)
            .filter(|i| {
                let a = runs(100 + 2 * i, 3, 5, 1_000.0, 0.02, 0.03);
                let b = runs(101 + 2 * i, 3, 5, 1_000.0, 0.02, 0.03);
                let e = estimate(compare(&a, &b));
                e.low > 0.0 || e.high < 0.0
            })
            .count();
        assert!(misses <= 15, "{misses} of 200");
    }

    #[test]
    fn pairing_cancels_what_each_minute_shared() {
        // Runs drift by up to ±20% together (the machine's load that minute), new is 5%
        // slower than base in every pair: Welch sees the drift as noise, pairs do not.
        let drift = [1.0, 0.8, 1.2, 0.9, 1.1];
        let base: Vec<Vec<f64>> = drift.iter().map(|d| vec![1_000.0 * d; 3]).collect();
        let new: Vec<Vec<f64>> = drift.iter().map(|d| vec![950.0 * d; 3]).collect();
        let welch = estimate(compare(&base, &new));
        assert!(welch.low < 0.0 && welch.high > 0.0, "{welch:?}");
        let paired = estimate(compare_paired(&base, &new));
        assert_eq!(paired.test, Test::PairedRuns);
        assert!((paired.change + 0.05).abs() < 1e-9, "{paired:?}");
        assert!((paired.low - paired.high).abs() < 1e-9, "{paired:?}");
        // Unequal counts or too few pairs: the unpaired test.
        assert_eq!(compare_paired(&base[..4], &new), compare(&base[..4], &new));
        assert_eq!(
            estimate(compare_paired(&base[..2], &new[..2])).test,
            Test::BlockBootstrap { block: 1 }
        );
    }

    #[test]
    fn too_few_samples_give_no_estimate() {
        let four = vec![vec![1.0, 2.0], vec![3.0, 4.0]];
        let many = runs(4, 3, 5, 10.0, 0.0, 0.1);
        assert_eq!(compare(&four, &many), Outcome::NotEnoughSamples);
        assert_eq!(compare(&many, &four), Outcome::NotEnoughSamples);
        // One value per run: two runs are not enough, three are.
        let per_run = |n: usize| -> Vec<Vec<f64>> { (0..n).map(|i| vec![10.0 + i as f64]).collect() };
        assert_eq!(compare(&per_run(2), &per_run(3)), Outcome::NotEnoughSamples);
        assert_eq!(estimate(compare(&per_run(3), &per_run(3))).change, 0.0);
    }

    #[test]
    fn from_zero_the_change_is_absolute() {
        let none = vec![vec![0.0; 6]];
        let some = vec![vec![0.0, 2.0, 0.0, 4.0, 0.0, 0.0]];
        let e = estimate(compare(&none, &some));
        assert!(!e.relative);
        assert_eq!(e.change, 1.0);
        assert!(e.low >= 0.0 && e.high <= 4.0, "{e:?}");
        let e = estimate(compare(&none, &none));
        assert_eq!((e.change, e.low, e.high), (0.0, 0.0, 0.0));
    }

    #[test]
    fn blocks_grow_with_the_cube_root_and_t_with_few_runs() {
        let lens: Vec<usize> = [1, 3, 5, 10, 30, 100].into_iter().map(block_len).collect();
        assert_eq!(lens, vec![1, 1, 2, 2, 3, 5]);
        assert_eq!((t_975(4.0), t_975(4.7), t_975(0.3)), (2.776, 2.776, 12.706));
        assert!((t_975(60.0) - 2.000).abs() < 0.002 && (t_975(1e9) - 1.96).abs() < 1e-6);
    }
}
