//! Which reports may be merged: shards of one run (same N, same whole run), each index at
//! most once. Missing indexes are returned, for the caller to refuse or flag.

use super::read::Input;
use crate::shard::Shard;

/// The shards given: N, and the indexes of 1..=N with no report.
#[derive(Debug, PartialEq, Eq)]
pub struct ShardSet {
    pub count: u64,
    pub missing: Vec<u64>,
}

impl ShardSet {
    /// `shard 2/3 missing`, `shards 2/5, 4/5 missing`.
    pub fn missing_text(&self) -> String {
        let list: Vec<String> = self
            .missing
            .iter()
            .map(|i| format!("{i}/{}", self.count))
            .collect();
        let plural = if list.len() == 1 { "shard" } else { "shards" };
        format!("{plural} {} missing", list.join(", "))
    }
}

pub fn check(inputs: &[Input]) -> Result<ShardSet, String> {
    let shard_of = |input: &Input| {
        input
            .report
            .shard
            .as_ref()
            .map_or(Shard { index: 1, count: 1 }, |s| s.shard)
    };
    if inputs.len() > 1
        && let Some(alone) = inputs.iter().find(|i| i.report.shard.is_none())
    {
        return Err(format!(
            "{}: not a shard (run without --shard): merge takes the shards of one run, each run with --shard I/N",
            alone.path
        ));
    }
    let first = &inputs[0];
    let count = shard_of(first).count;
    let mut seen: Vec<Option<&str>> = vec![None; count as usize];
    for input in inputs {
        let shard = shard_of(input);
        if shard.count != count {
            return Err(format!(
                "{} is shard {} but {} is shard {}: the shards of one run share N",
                first.path,
                shard_of(first),
                input.path,
                shard
            ));
        }
        let (run, first_run) = (&input.report.shard, &first.report.shard);
        if let (Some(run), Some(first_run)) = (run, first_run)
            && run.run != first_run.run
        {
            return Err(format!(
                "{} and {} are shards of different runs ('{}' vs '{}')",
                first.path, input.path, first_run.run, run.run
            ));
        }
        let slot = &mut seen[(shard.index - 1) as usize];
        if let Some(other) = slot {
            return Err(format!("shard {shard} given twice: {other} and {}", input.path));
        }
        *slot = Some(&input.path);
    }
    let missing = (1..=count)
        .filter(|i| seen[(*i - 1) as usize].is_none())
        .collect();
    Ok(ShardSet { count, missing })
}
