"""Summarise interleaved A/B benchmark runs (one JSON object per line) into JSON + markdown.

usage: summarize.py RUNS.jsonl OUT_PREFIX TITLE RIG COMMAND
Each run: {"target": "ours"|"nginx", "scenario": str, "rps": float, "mbps": float,
           "cpu_us_per_req": float, "errors": int, "non2xx": int}
Ratios are ours/nginx per round (runs are paired in order), then median and min-max.
"""
import sys

from results import fmt, header, median, ratios, read_jsonl, write

runs_path, out, title, rig, command = sys.argv[1:6]
runs = read_jsonl(runs_path)
summary = {"title": title, "rig": rig, "command": command, "runs": runs, "scenarios": {}}
lines = header(title, rig, command) + [
    "| scenario | ours rps | nginx rps | rps ours/nginx | ours MB/s | nginx MB/s "
    "| ours CPU-us/req | nginx CPU-us/req | CPU ours/nginx | errors |",
    "|---|---|---|---|---|---|---|---|---|---|",
]
for sc in dict.fromkeys(r["scenario"] for r in runs):
    ours = [r for r in runs if r["target"] == "ours" and r["scenario"] == sc]
    ngx = [r for r in runs if r["target"] == "nginx" and r["scenario"] == sc]
    s = {"rounds": len(ours), "errors": sum(r["errors"] + r["non2xx"] for r in ours + ngx)}
    for key in ("rps", "mbps", "cpu_us_per_req"):
        s[f"ours_{key}"] = median(r[key] for r in ours)
        s[f"nginx_{key}"] = median(r[key] for r in ngx)
    s["rps_ratio"] = ratios(ours, ngx, "rps")
    s["mbps_ratio"] = ratios(ours, ngx, "mbps")
    s["cpu_ratio"] = ratios(ours, ngx, "cpu_us_per_req")
    summary["scenarios"][sc] = s
    lines.append(
        f"| {sc} | {s['ours_rps']:.0f} | {s['nginx_rps']:.0f} | {fmt(s['rps_ratio'])} "
        f"| {s['ours_mbps']:.1f} | {s['nginx_mbps']:.1f} "
        f"| {s['ours_cpu_us_per_req']:.2f} | {s['nginx_cpu_us_per_req']:.2f} | {fmt(s['cpu_ratio'])} | {s['errors']} |"
    )
lines.append("\nRatios: median over rounds (min-max). CPU-us/req: the target's user+sys time from "
             "/proc/PID/stat over the run, divided by the requests the generator completed.")
write(out, summary, lines)
