//! CPU time of the target server (`--server-pid`): user + system time of each given
//! process (all its threads) and of all its descendants, in nanoseconds from each process's
//! CPU-time clock (see `oscalls::cpu::process_cpu_ns`). Sampled on the
//! main thread at the start of the recorded phase, once a second, and at the end, so a
//! process that exits mid-run still counts up to its last sample.

use oscalls::cpu::process_cpu_ns;
use oscalls::process::children;
use std::collections::BTreeMap;

/// Whether `pid` names a live process we can read.
pub fn exists(pid: u32) -> bool {
    process_cpu_ns(pid).is_some()
}

/// CPU of a process tree, tracked over the recorded phase.
#[derive(Debug)]
pub struct ServerCpu {
    roots: Vec<u32>,
    /// Per process: CPU nanoseconds at its first and latest sample in the window.
    seen: BTreeMap<u32, (u64, u64)>,
    /// Roots that were gone at some sample.
    vanished: Vec<u32>,
    started: bool,
}

impl ServerCpu {
    pub fn new(roots: &[u32]) -> ServerCpu {
        ServerCpu {
            roots: roots.to_vec(),
            seen: BTreeMap::new(),
            vanished: Vec::new(),
            started: false,
        }
    }

    pub fn started(&self) -> bool {
        self.started
    }

    /// Start of the window: every process alive now counts from its current CPU time.
    pub fn start(&mut self) {
        self.started = true;
        self.read_trees(true);
    }

    /// Latest CPU time of every process in the trees. A process first seen after the start
    /// was born during the window, so all its CPU counts.
    pub fn sample(&mut self) {
        if self.started {
            self.read_trees(false);
        }
    }

    fn read_trees(&mut self, first_sample: bool) {
        for &root in &self.roots {
            let mut tree = Vec::new();
            collect_tree(root, &mut tree);
            if tree.is_empty() && !self.vanished.contains(&root) {
                self.vanished.push(root);
            }
            for (pid, ns) in tree {
                let entry = self
                    .seen
                    .entry(pid)
                    .or_insert((if first_sample { ns } else { 0 }, ns));
                // A recycled PID would go backwards: keep the larger reading.
                entry.1 = entry.1.max(ns);
            }
        }
    }

    /// CPU seconds used by the trees between the first and the latest sample.
    pub fn cpu_s(&self) -> f64 {
        let ns: u64 = self
            .seen
            .values()
            .map(|(first, last)| last - first.min(last))
            .sum();
        ns as f64 / 1e9
    }

    pub fn pids(&self) -> &[u32] {
        &self.roots
    }

    /// Roots that exited during the run (their CPU after the last sample is missing).
    pub fn vanished(&self) -> &[u32] {
        &self.vanished
    }
}

/// `pid` and its descendants with their CPU nanoseconds; empty when `pid` is gone.
fn collect_tree(pid: u32, out: &mut Vec<(u32, u64)>) {
    let Some(ns) = process_cpu_ns(pid) else {
        return;
    };
    if out.iter().any(|(seen, _)| *seen == pid) {
        return; // defensive: /proc never loops, but a recycled PID could
    }
    out.push((pid, ns));
    for child in children(pid) {
        collect_tree(child, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_burning_cpu_is_measured() {
        // A child that spins: between two samples 300 ms apart it burns up to 300 ms of CPU
        // (less when the machine is busy, never none), and nothing before the first counts.
        let mut child = std::process::Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
        let mut cpu = ServerCpu::new(&[child.id()]);
        cpu.start();
        std::thread::sleep(std::time::Duration::from_millis(300));
        cpu.sample();
        let _ = child.kill();
        let _ = child.wait();
        let spent = cpu.cpu_s();
        assert!(
            (0.05..=0.35).contains(&spent),
            "measured {spent} s of a 0.3 s burn"
        );
        assert!(cpu.vanished().is_empty());
        assert_eq!(cpu.pids(), &[child.id()]);
        assert!(exists(std::process::id()));
    }

    #[test]
    fn descendants_are_part_of_the_tree() {
        let mut child = std::process::Command::new("sleep").arg("5").spawn().unwrap();
        let mut tree = Vec::new();
        collect_tree(std::process::id(), &mut tree);
        let _ = child.kill();
        let _ = child.wait();
        assert!(tree.iter().any(|(pid, _)| *pid == child.id()), "{tree:?}");
        assert_eq!(tree[0].0, std::process::id());
    }
}
