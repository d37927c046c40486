//! A deliberately slower server, for calibrating the performance gate
//! (`scripts/calibrate-gate.sh`): built only with `--features calibration-slowdown`, it adds
//! one fixed cost to every routed request, chosen when it is compiled by
//! `EVLOOP_CALIBRATION` in the build's environment:
//!
//! - `spin:N`: N iterations of a dependent multiply-add, a fixed number of instructions, so
//!   that callgrind counts the same extra on every request and the CPU cost does not depend
//!   on a clock (a clock spin would hide in the timing signal's own noise differently);
//! - `syscall`: one extra system call (`getppid`), a realistic regression of the kind
//!   instruction counts do not see;
//! - `alloc4k`: one extra 4 KiB heap allocation, filled by a copy and read back.
//!
//! Unset or empty, the calibration build costs nothing extra. The normal build has none of it.

use std::hint::black_box;

/// The compile-time choice (cargo rebuilds when it changes).
const SPEC: &str = match option_env!("EVLOOP_CALIBRATION") {
    Some(spec) => spec,
    None => "",
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cost {
    None,
    Spin(u64),
    Syscall,
    Alloc4k,
}

/// The cost this build adds, or why `EVLOOP_CALIBRATION` was not understood.
pub fn cost() -> Result<Cost, String> {
    parse(SPEC)
}

fn parse(spec: &str) -> Result<Cost, String> {
    match spec.trim() {
        "" => Ok(Cost::None),
        "syscall" => Ok(Cost::Syscall),
        "alloc4k" => Ok(Cost::Alloc4k),
        other => other
            .strip_prefix("spin:")
            .and_then(|n| n.parse().ok())
            .map(Cost::Spin)
            .ok_or_else(|| {
                format!(
                    "EVLOOP_CALIBRATION (at build time): expected spin:N, syscall or alloc4k, got '{other}'"
                )
            }),
    }
}

static SOURCE: [u8; 4096] = [0x5a; 4096];

/// The cost, decided when the crate is compiled: `spend()` then carries only that cost's own
/// code, so build A and the slowed build differ by exactly the injected work (parsing the
/// spec on every request would itself add ~150 instructions, +5% on keep-alive).
const COST: Cost = parse_const(SPEC.as_bytes());

/// `parse` for the spin case at compile time (a `const fn` cannot call `str::parse`);
/// anything else is left to `parse`, which `cost()` reports at start-up.
const fn parse_const(spec: &[u8]) -> Cost {
    const PREFIX: &[u8] = b"spin:";
    match spec {
        b"syscall" => return Cost::Syscall,
        b"alloc4k" => return Cost::Alloc4k,
        _ => {}
    }
    if spec.len() <= PREFIX.len() {
        return Cost::None;
    }
    let mut i = 0;
    while i < PREFIX.len() {
        if spec[i] != PREFIX[i] {
            return Cost::None;
        }
        i += 1;
    }
    let mut n: u64 = 0;
    while i < spec.len() {
        let digit = spec[i].wrapping_sub(b'0');
        if digit > 9 {
            return Cost::None;
        }
        n = n * 10 + digit as u64;
        i += 1;
    }
    Cost::Spin(n)
}

/// The extra work of one request.
#[inline(always)]
pub fn spend() {
    match COST {
        Cost::Spin(n) => {
            let mut x = black_box(1u64);
            // An opaque count: a constant one would let the compiler unroll the loop, and
            // an iteration would cost fewer instructions than the probe measured.
            for i in 0..black_box(n) {
                x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
            }
            black_box(x);
        }
        // getppid(2): glibc does not cache it, so it is a real system call each time.
        Cost::Syscall => _ = black_box(std::os::unix::process::parent_id()),
        Cost::Alloc4k => {
            let copy = black_box(SOURCE.to_vec());
            black_box(copy.iter().fold(0u8, |a, b| a ^ b));
        }
        Cost::None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_or_are_refused_by_name() {
        assert_eq!(parse(""), Ok(Cost::None));
        assert_eq!(parse("spin:2500"), Ok(Cost::Spin(2500)));
        assert_eq!(parse("syscall"), Ok(Cost::Syscall));
        assert_eq!(parse("alloc4k"), Ok(Cost::Alloc4k));
        for spec in [
            "",
            "spin:2500",
            "syscall",
            "alloc4k",
            "spin:",
            "spin:x1",
            "spinning",
        ] {
            let expected = parse(spec).unwrap_or(Cost::None);
            assert_eq!(parse_const(spec.as_bytes()), expected, "{spec}");
        }
        let refused = parse("spin:lots").unwrap_err();
        assert!(
            refused.contains("EVLOOP_CALIBRATION") && refused.contains("spin:lots"),
            "{refused}"
        );
    }
}
