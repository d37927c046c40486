"""Compare a run's ours/nginx ratios with a baseline, using loadgen's statistics.

usage: perf_gate.py SUMMARY.json BASELINE.json VERDICTS_DIR [--max-regression 5%] [--update] [--floor F]
VERDICTS_DIR holds one `loadgen compare --base nginx... --new ours... --json` file per
scenario (<scenario>.json): ours against nginx over the rounds, with a 95% confidence
interval. Metrics: rps_ratio (higher is better) and cpu_ratio (lower is better).

A ratio regresses when its whole 95% interval lies on the bad side of the baseline AND the
estimate is worse than the baseline by more than --max-regression: the same rule as
`loadgen compare`, against the committed baseline instead of a second set of runs. With too
few rounds (fewer than 3, and under 5 seconds of samples) loadgen says "not enough samples"
and the ratio cannot fail. --floor F gates on the median ratio over rounds alone: less than
F times as good as the baseline's worst round (rps below F x worst, CPU above worst / F; what
.ci/run uses: the baseline's own spread is known noise, so only a change well beyond it, such
as a broken server, trips the floor). A baseline scenario with "hard_floor": false (and its
"why") is printed but not judged by --floor: its noise on this rig is wider than any floor
(see bench-results/static-1mib-noise-20261202T1150Z).
Exit 0 pass, 3 regression, 2 usage error.
"""
import argparse
import json
import os
import sys

p = argparse.ArgumentParser()
p.add_argument("summary")
p.add_argument("baseline")
p.add_argument("verdicts")
p.add_argument("--max-regression", default="5%")
p.add_argument("--update", action="store_true")
p.add_argument("--floor", type=float)
a = p.parse_args()
try:
    band = float(a.max_regression.rstrip("%")) / 100
    assert 0 <= band < 1
except (ValueError, AssertionError):
    sys.exit(print(f"--max-regression: expected a percentage such as 5% (got {a.max_regression})", file=sys.stderr) or 2)
if a.floor is not None and not 0 < a.floor <= 1:
    sys.exit(print(f"--floor: expected a factor in (0, 1] (got {a.floor})", file=sys.stderr) or 2)

run = json.load(open(a.summary))["scenarios"]
# ratio name -> (loadgen compare metric, +1 when higher is better)
METRICS = {"rps_ratio": ("rps", +1), "cpu_ratio": ("target_cpu_us_per_req", -1)}

def worst(spread, direction):
    return spread["min"] if direction > 0 else spread["max"]


if a.update:
    old = json.load(open(a.baseline))["scenarios"] if os.path.exists(a.baseline) else {}
    baseline = {
        s: {m: {"median": v[m]["median"], "worst": worst(v[m], d)} for m, (_, d) in METRICS.items()}
        for s, v in run.items()
    }
    # Exemptions from the hard floor are decisions with reasons, not figures: keep them.
    for s, entry in baseline.items():
        entry.update({k: old[s][k] for k in ("hard_floor", "why") if k in old.get(s, {})})
    json.dump({"note": "ours/nginx medians from scripts/ci-perf.sh --update-baseline", "scenarios": baseline},
              open(a.baseline, "w"), indent=2)
    print(f"baseline written: {a.baseline}")
    sys.exit(0)


def interval(verdict, metric):
    """(estimate, low, high) of ours/nginx from loadgen's verdict, or None without an interval."""
    m = next(m for m in verdict["metrics"] if m["metric"] == metric)
    if m.get("change_unit") != "%":
        return None, m
    return tuple(1 + m[k] / 100 for k in ("change", "ci_low", "ci_high")), m


baseline = json.load(open(a.baseline))["scenarios"]
rows, failed = [], []
for scenario, base in baseline.items():
    path = os.path.join(a.verdicts, f"{scenario}.json")
    if scenario not in run or not os.path.exists(path):
        failed.append(f"{scenario}: not measured")
        continue
    verdict = json.load(open(path))
    for name, (metric, direction) in METRICS.items():
        ref, floor_ref = base[name]["median"], base[name]["worst"]
        median = run[scenario][name]["median"]
        ci, m = interval(verdict, metric)
        # + better, against the baseline's median (the floor: against its worst round).
        change = lambda r, ref=ref: (r - ref) / ref * direction
        if ci is None:
            shown, test, bad_stat, better = f"{median:.3f} (no interval)", m["verdict"], False, False
        else:
            est, low, high = ci
            shown, test = f"{est:.3f} ({low:.3f}-{high:.3f})", m["test"]
            # The whole interval on the bad side of the baseline, and the estimate past the band.
            bad_stat = (high < ref if direction > 0 else low > ref) and change(est) < -band
            better = low > ref if direction > 0 else high < ref
        # Floor: how many times as good as the baseline's worst round (rps up, CPU down).
        goodness = (median / floor_ref) ** direction
        judged = a.floor is None or base.get("hard_floor", True)
        bad = judged and (goodness < a.floor if a.floor is not None else bad_stat)
        word = "REGRESSED" if bad else ("improved" if better else "ok" if judged else "not gated")
        if bad:
            failed.append(f"{scenario} {name}: {shown} vs baseline {ref:.3f} (median {change(median):+.1%})")
        rows.append(f"| {scenario} | {name} | {ref:.3f} | {median:.3f} | {shown} | {change(median):+.1%} | {test} | {word} |")
print("| scenario | metric | baseline | now (median) | now (estimate, 95% CI) | change of median (+ better) | test | verdict |")
print("|---|---|---|---|---|---|---|---|")
print("\n".join(rows))
if a.floor is not None:
    for scenario, base in baseline.items():
        if not base.get("hard_floor", True):
            print(f"\n{scenario}: not gated by the hard floor: {base.get('why', 'no reason given')}")
rule = f"hard floor: median worse than {a.floor}x the baseline's worst round" if a.floor is not None else f"significant and past {band:.0%}"
if failed:
    print(f"\nperformance regression ({rule}):\n  " + "\n  ".join(failed), file=sys.stderr)
    sys.exit(3)
print(f"\nno regression ({rule})")
