"""Summary for scripts/bench-loadgen-memory.sh: generator memory per connection, loadgen vs
wrk, median and min-max over rounds.
usage: loadgen_memory_summary.py RUNS.jsonl OUT_PREFIX TARGET DURATION BASELINE COMMAND"""
import sys

from results import fmt, header, read_jsonl, spread, write

runs_path, base, target, duration, baseline, command = sys.argv[1:7]
baseline = int(baseline)
runs = read_jsonl(runs_path)
rounds = sorted({r["round"] for r in runs})
counts = sorted({r["connections"] for r in runs if r["connections"] != baseline})
tools = ["loadgen", "wrk"]


def run(tool, n, rnd):
    return next(r for r in runs if r["tool"] == tool and r["connections"] == n and r["round"] == rnd)


def per_conn(tool, n, rnd, key):
    """Bytes per connection at n over the baseline of the same tool and round."""
    return (run(tool, n, rnd)[key] - run(tool, baseline, rnd)[key]) * 1024 / (n - baseline)


summary = {"command": command, "target": target, "baseline": baseline, "runs": runs, "counts": {}}
lines = [
    "| connections | generator | RssAnon per connection | VmRSS per connection | RssAnon at N (KiB) | errors |",
    "|---|---|---|---|---|---|",
]
for n in counts:
    row = {}
    for tool in tools:
        anon = spread(per_conn(tool, n, r, "rss_anon_kb") for r in rounds)
        rss = spread(per_conn(tool, n, r, "vm_rss_kb") for r in rounds)
        total = spread(run(tool, n, r)["rss_anon_kb"] for r in rounds)
        errors = sum(run(tool, n, r)["errors"] for r in rounds)
        row[tool] = {"rss_anon_bytes_per_conn": anon, "vm_rss_bytes_per_conn": rss, "rss_anon_kb": total, "errors": errors}
        lines.append(f"| {n} | {tool} | {fmt(anon, 0)} B | {fmt(rss, 0)} B | {fmt(total, 0)} | {errors} |")
    ratio = spread(per_conn("loadgen", n, r, "rss_anon_kb") / per_conn("wrk", n, r, "rss_anon_kb") for r in rounds)
    row["rss_anon_ratio_loadgen_over_wrk"] = ratio
    summary["counts"][str(n)] = row
lines += ["", "RssAnon per connection, loadgen/wrk per round: "
          + ", ".join(f"{n}: {fmt(summary['counts'][str(n)]['rss_anon_ratio_loadgen_over_wrk'])}" for n in counts)]
rig = (f"target {target} (one worker) on CPU 0; loadgen and wrk -t1 -d{duration} on CPU 1 with keep-alive "
       f"traffic on every connection; memory sampled every 100 ms over the middle of each run, the largest "
       f"sample kept; baseline -c{baseline}; {len(rounds)} rounds interleaved loadgen/wrk")
write(base, summary, header("Generator memory per connection: loadgen vs wrk", rig, command) + lines)
