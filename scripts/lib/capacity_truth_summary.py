"""Summarise scripts/capacity-truth.sh: found capacity against the true one, per round.

usage: capacity_truth_summary.py WORKDIR ROUNDS SERVICE_US OUT_PREFIX RIG COMMAND
"""
import json
import os
import sys

from results import fmt, header, spread, write

work, rounds, service_us, out_prefix, rig, command = sys.argv[1:7]
truth = 1e6 / float(service_us)
results = [json.load(open(os.path.join(work, f"round-{r}.json"))) for r in range(1, int(rounds) + 1)]
found = [r["max_rate"] or 0.0 for r in results]
errors = spread(100.0 * (f / truth - 1.0) for f in found)
steps = spread(len(r["steps"]) for r in results)
found_spread = spread(found)
spread_pct = 100.0 * (found_spread["max"] - found_spread["min"]) / found_spread["median"] if found_spread["median"] else 0.0
summary = {
    "rig": rig,
    "command": command,
    "true_capacity": truth,
    "slo": results[0]["slo"],
    "found": found_spread,
    "error_pct": errors,
    "spread_pct": spread_pct,
    "steps": steps,
    "limited_by": [r["limited_by"] for r in results],
    "probe_rps": [r["probe_rps"] for r in results],
}
lines = [
    "| true capacity | found (median, min-max) | error vs truth | spread over rounds | steps | limited by |",
    "|---|---|---|---|---|---|",
    f"| {truth:.0f} req/s | {fmt(found_spread, 0)} req/s | {fmt(errors, 1)}% | {spread_pct:.1f}% "
    f"| {fmt(steps, 0)} | {', '.join(summary['limited_by'])} |",
    "",
    f"SLO: {', '.join(results[0]['slo'])}; precision {results[0]['precision'] * 100:.0f}%; each round searched "
    "from the default start (a 1 s closed-loop probe's rate / 10).",
]
write(out_prefix, summary, header("loadgen capacity against a target of known capacity", rig, command) + lines)
