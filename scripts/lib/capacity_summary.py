"""Summarise a compare-nginx.sh --capacity run directory.

usage: capacity_summary.py DIR RIG COMMAND
Reads DIR/<scenario>-<ours|nginx>-r<round>.json (loadgen capacity --json results), writes
DIR/summary.json and DIR/summary.md and prints the markdown table. The headline is the
ratio of the two capacities at the same SLO, per round (paired by round), then median and
min-max over rounds. A capacity limited by loadgen is a lower bound, and is marked so.
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
    if m:
        runs.setdefault(m.group(1), {}).setdefault(int(m.group(3)), {})[m.group(2)] = json.load(open(path))


def capacity(result):
    """(req/s, bound): the capacity and whether it is only a lower bound."""
    return result["max_rate"] or 0.0, result["limited_by"] in ("generator", "max_rate", "max_steps")


summary = {"rig": rig, "command": command, "scenarios": {}}
slo = None
lines = [
    "| scenario | ours capacity (req/s) | nginx capacity (req/s) | ours/nginx | steps ours / nginx | limited by (ours / nginx) |",
    "|---|---|---|---|---|---|",
]
for scenario, rounds in runs.items():
    paired = [(r["ours"], r["nginx"]) for _, r in sorted(rounds.items()) if "ours" in r and "nginx" in r]
    if not paired:
        continue
    slo = ", ".join(paired[0][0]["slo"])
    ours = [capacity(o) for o, _ in paired]
    ngx = [capacity(n) for _, n in paired]
    ratio = spread([o[0] / n[0] for o, n in zip(ours, ngx) if n[0] > 0] or [0.0])
    bound = lambda caps: "≥ " if any(b for _, b in caps) else ""
    limited = lambda side: "/".join(sorted({r[side]["limited_by"] for r in ({"o": o, "n": n} for o, n in paired)}))
    s = {
        "rounds": len(paired),
        "slo": [x for x in paired[0][0]["slo"]],
        "ours": {"capacity": spread(c for c, _ in ours), "lower_bound": any(b for _, b in ours),
                 "steps": median(len(o["steps"]) for o, _ in paired)},
        "nginx": {"capacity": spread(c for c, _ in ngx), "lower_bound": any(b for _, b in ngx),
                  "steps": median(len(n["steps"]) for _, n in paired)},
        "capacity_ratio": ratio,
    }
    summary["scenarios"][scenario] = s
    lines.append(
        f"| {scenario} | {bound(ours)}{fmt(s['ours']['capacity'], 0)} | {bound(ngx)}{fmt(s['nginx']['capacity'], 0)} "
        f"| **{fmt(ratio)}** | {s['ours']['steps']:.0f} / {s['nginx']['steps']:.0f} | {limited('o')} / {limited('n')} |"
    )
footer = ["", f"Capacity: the highest open-loop rate meeting {slo} (loadgen capacity, median (min-max) "
          "over rounds); ratio ours/nginx per round. '≥' marks a lower bound (loadgen, --max-rate or "
          "--max-steps ended the search before the target failed)."]
write(os.path.join(directory, "summary"), summary, header("Capacity at an SLO: our server vs nginx", rig, command) + lines + footer)
