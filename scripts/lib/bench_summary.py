"""Summary table for scripts/bench.sh.  usage: bench_summary.py DIR COMMAND
Reads DIR/<scenario>.json (loadgen --json), writes DIR/summary.md, prints it."""
import glob
import json
import os
import sys

directory, command = sys.argv[1:3]
lines = [
    f"# scripts/bench.sh\n",
    f"Command: `{command}`.\n",
    "| scenario | requests | rps | p50 | p99 | p99.9 | errors | server CPU-us/req | server CPU |",
    "|---|---|---|---|---|---|---|---|---|",
]
for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
    r = json.load(open(path))
    if "latency_us" not in r:
        continue
    lat, target = r["latency_us"], r.get("target") or {}
    ms = lambda us: f"{us / 1000:.2f}ms" if us >= 1000 else f"{us:.0f}us"
    lines.append(
        f"| {os.path.basename(path)[:-5]} | {r['requests']} | {r['rps']:.0f} | {ms(lat['p50'])} | {ms(lat['p99'])} "
        f"| {ms(lat['p99_9'])} | {r['errors']['total']} | {target.get('cpu_us_per_request', float('nan')):.2f} "
        f"| {target.get('cpu_util_pct', float('nan')):.0f}% |"
    )
open(os.path.join(directory, "summary.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines[2:]))
print(f"\nwritten: {directory}/ (JSON and SVG per scenario, summary.md)")
