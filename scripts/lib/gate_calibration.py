"""Summary of scripts/calibrate-gate.sh: per mode and head build, how often the gate
failed (exit 3), with a 95% Clopper-Pearson interval; for A/A' exact runs also the
spread of each scenario's counts across runs. Writes DIR/summary.{md,json}.

usage: gate_calibration.py DIR
"""
import json
import math
import sys
from collections import defaultdict


def binom_cdf(k, n, p):
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))


def clopper_pearson(k, n, alpha=0.05):
    def solve(f):  # f increasing in p, find f(p) = 0
        lo, hi = 0.0, 1.0
        for _ in range(100):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if f(mid) < 0 else (lo, mid)
        return (lo + hi) / 2
    low = 0.0 if k == 0 else solve(lambda p: (1 - binom_cdf(k - 1, n, p)) - alpha / 2)
    high = 1.0 if k == n else solve(lambda p: alpha / 2 - binom_cdf(k, n, p))
    return low, high


def unmeasured(row):
    return f" ({row['unmeasured']} unmeasured)" if row["unmeasured"] else ""


def smallest_caught(rows):
    """Per mode, the smallest P of its MODE-spin-P builds caught in >= 90% of runs."""
    found = {}
    for r in rows:
        prefix = f"{r['mode']}-spin-"
        if not r["head"].startswith(prefix):
            continue
        found.setdefault(r["mode"], None)
        pct = int(r["head"][len(prefix):])
        if r["rate"] is not None and r["rate"] >= 0.9 and (found[r["mode"]] is None or pct < found[r["mode"]]):
            found[r["mode"]] = pct
    return found


def main(out):
    runs = [json.loads(l) for l in open(f"{out}/runs.jsonl") if l.strip()]
    probe = json.load(open(f"{out}/probe.json"))
    groups = defaultdict(list)
    for r in runs:
        groups[(r["mode"], r["head"])].append(r)
    rows, spreads = [], {}
    for (mode, head), rs in sorted(groups.items()):
        n = len(rs)
        alarms = sum(r["exit"] == 3 for r in rs)
        broken = sum(r["exit"] not in (0, 3) for r in rs)
        judged = n - broken
        low, high = clopper_pearson(alarms, judged) if judged else (0, 1)
        changes = []
        for r in rs:
            try:
                s = json.load(open(f"{out}/runs/{r['run']}/summary.json"))
            except FileNotFoundError:
                continue
            for row in s["rows"]:
                key = (row["scenario"], row["metric"])
                changes.append((key, row["change"], row["base"], row["head"], row["verdict"]))
        by_metric = defaultdict(list)
        for key, change, *_ in changes:
            if change is not None:
                by_metric[key].append(change)
        rows.append({"mode": mode, "head": head, "spec": rs[0]["spec"], "runs": n, "unmeasured": broken,
                     "alarms": alarms, "rate": alarms / judged if judged else None, "ci": [low, high],
                     "mean_change": {f"{k[0]} {k[1]}": sum(v) / len(v) for k, v in by_metric.items()},
                     "max_abs_change": {f"{k[0]} {k[1]}": max(abs(x) for x in v) for k, v in by_metric.items()}})
        if mode == "exact" and head == "A2":
            values = defaultdict(lambda: {"A": [], "A2": []})
            for key, _, base, headv, _ in changes:
                values[key]["A"].append(base)
                values[key]["A2"].append(headv)
            for key, v in values.items():
                a = sorted(v["A"])
                med = a[len(a) // 2]
                spreads[f"{key[0]} {key[1]}"] = {
                    "runs": len(a), "median": med, "spread_pct": (a[-1] - a[0]) / med * 100 if med else 0,
                    "a2_median": sorted(v["A2"])[len(v["A2"]) // 2],
                    "aa_diff_pct": (sorted(v["A2"])[len(v["A2"]) // 2] / med - 1) * 100 if med else 0}
    json.dump({"probe": probe, "rows": rows, "exact_spread": spreads}, open(f"{out}/summary.json", "w"), indent=1)
    md = ["# Performance gate calibration", "",
          "Command: `scripts/calibrate-gate.sh` (see its header); every run is a whole `scripts/perf-gate.sh` run "
          "against build A. Rig: 2-core VM; servers on CPU 0, loadgen -t1 on CPU 1 (timing: both sides' servers "
          "and loadgens at once).", "",
          f"Probe (keepalive): A = {probe['a_instructions']:.1f} instructions/req and {probe['a_cpu_us']:.3f} CPU-us/req; "
          f"one spin iteration = {probe['instructions_per_iteration']:.2f} instructions, {probe['ns_per_iteration']:.3f} ns.", "",
          "| mode | head build | EVLOOP_CALIBRATION | runs | failed the gate | rate (95% CI) | mean change (keepalive) |",
          "|---|---|---|---:|---:|---|---|"]
    for r in rows:
        keep = {k: v for k, v in r["mean_change"].items() if k.startswith("keepalive ")}
        change = ", ".join(f"{k.split(' ', 1)[1]} {v * 100:+.2f}%" for k, v in keep.items())
        rate = "—" if r["rate"] is None else f"{r['rate'] * 100:.0f}% ({r['ci'][0] * 100:.1f}–{r['ci'][1] * 100:.1f}%)"
        md.append(f"| {r['mode']} | {r['head']} | {r['spec'] or '(none)'} | {r['runs']}"
                  f"{unmeasured(r)}"
                  f" | {r['alarms']} | {rate} | {change} |")
    smallest = smallest_caught(rows)
    if smallest:
        md += ["", "Smallest slowdown caught in at least 90% of runs: "
               + ", ".join(f"{mode} +{p}%" if p else f"{mode}: none of those measured"
                           for mode, p in smallest.items()) + "."]
    if spreads:
        md += ["", "Exact signal, A/A′ runs: each scenario's count in build A across runs, and A′ against A.", "",
               "| scenario metric | runs | A median | spread of A (max−min) | A′ median | A′ vs A |", "|---|---:|---:|---:|---:|---:|"]
        for k, s in sorted(spreads.items()):
            md.append(f"| {k} | {s['runs']} | {s['median']:.3f} | {s['spread_pct']:.3f}% | {s['a2_median']:.3f} | {s['aa_diff_pct']:+.3f}% |")
    open(f"{out}/summary.md", "w").write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main(sys.argv[1])
