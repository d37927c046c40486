//! The timing signal's statistic: a paired t-test on the logarithms of per-round ratios
//! head/base, so that the estimate, its interval and its p-value are all about one quantity
//! — the geometric mean of the ratios — and Holm's step-down correction across every test
//! of one gate run (a run of ten scenario-metric tests at 5% each would otherwise cry wolf
//! four times in ten).
//!
//! Why paired: the gate loads both sides in the same round at the same time, so whatever
//! moves a round's figures on this machine (frequency, cache and memory state, the other
//! tenants) moves both; per-round ratios vary by about 1% where the values themselves vary
//! by 10-30% (bench-results/gate-calibration-*). Why not Wilcoxon's signed-rank test
//! (benchstat uses Mann-Whitney): with ten rounds it gives a p-value but no interval, and the
//! gate needs "how much worse" to compare with its threshold; the log scale makes the
//! interval a ratio and tames the right skew of CPU times.

/// The change of head against base: `exp(mean(ln(head/base))) - 1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatioTest {
    pub change: f64,
    /// 95% confidence interval of `change`.
    pub low: f64,
    pub high: f64,
    /// Two-sided p-value of "no change".
    pub p: f64,
    pub df: f64,
}

/// The paired test over (base, head) rounds; None with fewer than two pairs or a value that
/// is not positive (a ratio of such is meaningless).
pub fn log_paired(pairs: &[(f64, f64)]) -> Option<RatioTest> {
    let bad = |v: f64| v.is_nan() || v <= 0.0 || v.is_infinite();
    if pairs.len() < 2 || pairs.iter().any(|(b, h)| bad(*b) || bad(*h)) {
        return None;
    }
    let d: Vec<f64> = pairs.iter().map(|(b, h)| (h / b).ln()).collect();
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let se = (var / n).sqrt();
    let change = mean.exp() - 1.0;
    if se == 0.0 {
        // Every round's ratio identical: the difference is exact.
        let p = if mean == 0.0 { 1.0 } else { 0.0 };
        return Some(RatioTest {
            change,
            low: change,
            high: change,
            p,
            df: f64::INFINITY,
        });
    }
    let df = n - 1.0;
    let q = t_quantile(0.975, df);
    Some(RatioTest {
        change,
        low: (mean - q * se).exp() - 1.0,
        high: (mean + q * se).exp() - 1.0,
        p: two_sided_p(mean / se, df),
        df,
    })
}

/// Holm's step-down adjustment: the i-th smallest of m p-values is multiplied by m - i,
/// and adjusted values never decrease in that order (capped at 1). Order as given.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|a, b| p[*a].total_cmp(&p[*b]));
    let mut adjusted = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

/// P(|T| >= |t|) for Student's t with `df` degrees of freedom.
pub fn two_sided_p(t: f64, df: f64) -> f64 {
    if !t.is_finite() {
        return 0.0;
    }
    incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
}

/// The `prob` quantile of Student's t (prob > 0.5), by bisection on the p-value.
pub fn t_quantile(prob: f64, df: f64) -> f64 {
    let target = 2.0 * (1.0 - prob);
    let (mut lo, mut hi) = (0.0, 1000.0);
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if two_sided_p(mid, df) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

/// The regularized incomplete beta function I_x(a, b) (Numerical Recipes' continued
/// fraction by Lentz's method, with the symmetry relation for convergence).
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    d = if d.abs() < TINY { TINY } else { d };
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        for aa in [
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ] {
            d = 1.0 + aa * d;
            d = if d.abs() < TINY { TINY } else { d };
            c = 1.0 + aa / c;
            c = if c.abs() < TINY { TINY } else { c };
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine coefficients: ~1e-15 relative).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let sum = G[1..]
        .iter()
        .enumerate()
        .fold(G[0], |acc, (i, g)| acc + g / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}
