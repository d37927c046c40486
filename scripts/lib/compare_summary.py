"""Summarise a compare-nginx.sh run directory.

usage: compare_summary.py DIR RIG COMMAND
Reads DIR/<scenario>-<ours|nginx>-r<round>.json (loadgen --json reports, with --server-pid),
writes DIR/summary.json and DIR/summary.md and prints the markdown table.
Ratios are ours/nginx per round (paired by round), then median and min-max over rounds.
"""
import glob
import json
import os
import re
import sys

from results import fmt, header, median, spread, write

directory, rig, command = sys.argv[1:4]
runs = {}
for path in sorted(glob.glob(os.path.join(directory, "*-r*.json"))):
    m = re.match(r"(.+)-(ours|nginx)-r(\d+)\.json$", os.path.basename(path))
    if not m:
        continue
    report = json.load(open(path))
    runs.setdefault(m.group(1), {}).setdefault(int(m.group(3)), {})[m.group(2)] = report


def figures(r):
    non2xx = sum(n for cls, n in r.get("status_class", {}).items() if cls != "2xx")
    return {
        "rps": r["rps"],
        "p50_us": r["latency_us"]["p50"],
        "p99_us": r["latency_us"]["p99"],
        "cpu_us_per_req": (r.get("target") or {}).get("cpu_us_per_request"),
        "errors": r["errors"]["total"] + non2xx,
    }


summary = {"rig": rig, "command": command, "scenarios": {}}
lines = [
    "| scenario | ours rps | nginx rps | rps ours/nginx | ours p50 / p99 | nginx p50 / p99 "
    "| ours CPU-us/req | nginx CPU-us/req | CPU ours/nginx | errors |",
    "|---|---|---|---|---|---|---|---|---|---|",
]
for scenario, rounds in runs.items():
    paired = [(figures(r["ours"]), figures(r["nginx"])) for _, r in sorted(rounds.items()) if "ours" in r and "nginx" in r]
    if not paired:
        continue
    med = lambda side, key: median(p[side][key] for p in paired)
    rps_ratio = spread([o["rps"] / n["rps"] for o, n in paired])
    cpu_ratio = spread([o["cpu_us_per_req"] / n["cpu_us_per_req"] for o, n in paired])
    s = {
        "rounds": len(paired),
        "ours": {k: med(0, k) for k in ("rps", "p50_us", "p99_us", "cpu_us_per_req")},
        "nginx": {k: med(1, k) for k in ("rps", "p50_us", "p99_us", "cpu_us_per_req")},
        "rps_ratio": rps_ratio,
        "cpu_ratio": cpu_ratio,
        "errors": sum(o["errors"] + n["errors"] for o, n in paired),
    }
    summary["scenarios"][scenario] = s
    ours, ngx = s["ours"], s["nginx"]
    lines.append(
        f"| {scenario} | {ours['rps']:.0f} | {ngx['rps']:.0f} | {fmt(rps_ratio)} "
        f"| {ours['p50_us']:.0f}us / {ours['p99_us']:.0f}us | {ngx['p50_us']:.0f}us / {ngx['p99_us']:.0f}us "
        f"| {ours['cpu_us_per_req']:.2f} | {ngx['cpu_us_per_req']:.2f} | {fmt(cpu_ratio)} | {s['errors']} |"
    )
footer = ["", "Ratios: ours/nginx per round, median (min-max). CPU-us/req: the target's user+sys time "
          "over the recorded window (loadgen --server-pid, nginx master and workers summed) per request."]
write(os.path.join(directory, "summary"), summary, header("Our server vs nginx", rig, command) + lines + footer)
