//! Human units for the text report, in wrk's style: adaptive time and 1024-based sizes.

/// `us` microseconds as `123.45us`, `1.23ms` or `2.00s`.
pub fn time_us(us: f64) -> String {
    if us < 1_000.0 {
        format!("{us:.2}us")
    } else if us < 1_000_000.0 {
        format!("{:.2}ms", us / 1_000.0)
    } else {
        format!("{:.2}s", us / 1_000_000.0)
    }
}

/// Bytes as `512.00B`, `1.50KB`, `15.02MB`, ...
pub fn bytes(n: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = n;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.2}{}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adaptive_units() {
        assert_eq!(time_us(12.345), "12.35us");
        assert_eq!(time_us(5_100.0), "5.10ms");
        assert_eq!(time_us(2_000_000.0), "2.00s");
        assert_eq!(bytes(512.0), "512.00B");
        assert_eq!(bytes(1536.0), "1.50KB");
        assert_eq!(bytes(3.0 * 1024.0 * 1024.0), "3.00MB");
    }
}
