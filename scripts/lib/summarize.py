"""Summarise interleaved A/B benchmark runs (one JSON object per line) into JSON + markdown.

usage: summarize.py RUNS.jsonl OUT_PREFIX TITLE RIG COMMAND
Each run: {"target": "ours"|"nginx", "scenario": str, "rps": float, "mbps": float,
           "cpu_us_per_req": float, "errors": int, "non2xx": int}
Ratios are ours/nginx per round (runs are paired in order), then median and min-max.
"""
import json
import statistics
import sys

runs_path, out, title, rig, command = sys.argv[1:6]
runs = [json.loads(line) for line in open(runs_path)]
scenarios = list(dict.fromkeys(r["scenario"] for r in runs))
med = statistics.median
summary = {"title": title, "rig": rig, "command": command, "runs": runs, "scenarios": {}}
lines = [
    f"# {title}\n",
    f"Rig: {rig}.\n",
    f"Command: `{command}`\n",
    "| scenario | ours rps | nginx rps | rps ours/nginx | ours MB/s | nginx MB/s "
    "| ours CPU-us/req | nginx CPU-us/req | CPU ours/nginx | errors |",
    "|---|---|---|---|---|---|---|---|---|---|",
]


def spread(values):
    return f"{med(values):.2f} ({min(values):.2f}-{max(values):.2f})"


for sc in scenarios:
    ours = [r for r in runs if r["target"] == "ours" and r["scenario"] == sc]
    ngx = [r for r in runs if r["target"] == "nginx" and r["scenario"] == sc]
    rps_ratio = [a["rps"] / b["rps"] for a, b in zip(ours, ngx)]
    mbps_ratio = [a["mbps"] / b["mbps"] for a, b in zip(ours, ngx)]
    cpu_ratio = [a["cpu_us_per_req"] / b["cpu_us_per_req"] for a, b in zip(ours, ngx)]
    s = {
        "rounds": len(rps_ratio),
        "ours_rps": med(r["rps"] for r in ours),
        "nginx_rps": med(r["rps"] for r in ngx),
        "rps_ratio": med(rps_ratio), "rps_ratio_min": min(rps_ratio), "rps_ratio_max": max(rps_ratio),
        "ours_mbps": med(r["mbps"] for r in ours),
        "nginx_mbps": med(r["mbps"] for r in ngx),
        "mbps_ratio": med(mbps_ratio), "mbps_ratio_min": min(mbps_ratio), "mbps_ratio_max": max(mbps_ratio),
        "ours_cpu_us_per_req": med(r["cpu_us_per_req"] for r in ours),
        "nginx_cpu_us_per_req": med(r["cpu_us_per_req"] for r in ngx),
        "cpu_ratio": med(cpu_ratio), "cpu_ratio_min": min(cpu_ratio), "cpu_ratio_max": max(cpu_ratio),
        "errors": sum(r["errors"] + r["non2xx"] for r in ours + ngx),
    }
    summary["scenarios"][sc] = s
    lines.append(
        f"| {sc} | {s['ours_rps']:.0f} | {s['nginx_rps']:.0f} | {spread(rps_ratio)} "
        f"| {s['ours_mbps']:.1f} | {s['nginx_mbps']:.1f} "
        f"| {s['ours_cpu_us_per_req']:.2f} | {s['nginx_cpu_us_per_req']:.2f} | {spread(cpu_ratio)} | {s['errors']} |"
    )
lines.append("\nRatios: median over rounds (min-max). CPU-us/req: the target's user+sys time from "
             "/proc/PID/stat over the run, divided by the requests the generator completed.")
json.dump(summary, open(out + ".json", "w"), indent=2)
open(out + ".md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
print(f"\nwritten: {out}.json {out}.md")
