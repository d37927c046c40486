"""Summarise a calibrate-gate.sh directory: false-alarm and detection rates of the gate.

usage: calibration_summary.py DIR RIG COMMAND
Reads DIR/verdicts/p<pair>-<server>-<mode>.json (`loadgen compare --json` with
--max-regression 0%, so every significantly worse metric is marked) and counts, per server
and way of judging (N runs a side, the same paired, one run a side), the pairs the gate fails at each --max-regression P. The statistic is
loadgen's: this only applies the documented rule (worse, and past P unless the change is
absolute) to the verdicts it wrote. Writes DIR/calibration.{json,md}.
"""
import glob
import json
import os
import re
import sys

from results import header, write

BANDS = [0, 1, 2, 3, 4, 5]

directory, rig, command = sys.argv[1:4]
verdicts = {}
for path in sorted(glob.glob(os.path.join(directory, "verdicts", "p*-*-*.json"))):
    m = re.match(r"p(\d+)-([^-]+)-(.+)\.json$", os.path.basename(path))
    verdicts.setdefault((m.group(2), m.group(3)), []).append(json.load(open(path)))


def fails(metric, band):
    return metric["verdict"] == "worse" and (metric.get("change_unit") != "%" or abs(metric["change"]) > band)


# Bn: the extra CPU per request, ns (one line per piece of the calibration).
slowdowns = {}
spins = os.path.join(directory, "slowdowns.txt")
if os.path.exists(spins):
    for line in open(spins):
        pct, ns, cpu = line.split()
        slowdowns.setdefault(f"B{pct}", []).append((int(ns), float(cpu)))

summary = {"rig": rig, "command": command, "bands_pct": BANDS, "comparisons": []}
lines = [
    "| A1 vs | judged on | pairs | " + " | ".join(f"fails at {b}%" for b in BANDS) + " | worse, per metric (any size) |",
    "|---|---|---|" + "---|" * len(BANDS) + "---|",
]
for (server, judged), docs in sorted(verdicts.items()):
    rates = {b: sum(any(fails(m, b) for m in d["metrics"]) for d in docs) for b in BANDS}
    names = [m["metric"] for m in docs[0]["metrics"]]
    worse = {n: sum(any(m["metric"] == n and m["verdict"] == "worse" for m in d["metrics"]) for d in docs) for n in names}
    tests = sorted({m.get("test", m["verdict"]) for d in docs for m in d["metrics"]})
    spin = slowdowns.get(server, [(0, 0.0)])
    ns = f"{min(n for n, _ in spin)}-{max(n for n, _ in spin)} ns"
    cpu = f"{min(c for _, c in spin):.2f}-{max(c for _, c in spin):.2f} us"
    kind = "A/A: false alarms" if server == "A2" else f"A/B: detections, +{server[1:]}%: {ns} on A's {cpu}"
    summary["comparisons"].append({"new": server, "kind": kind, "judged_on": judged, "pairs": len(docs),
                                   "fails_by_band": rates, "worse_by_metric": worse, "tests": tests})
    lines.append(f"| {server} ({kind}) | {judged} | {len(docs)} | "
                 + " | ".join(f"{rates[b]}/{len(docs)} ({rates[b] / len(docs):.0%})" for b in BANDS)
                 + " | " + ", ".join(f"{n} {c}" for n, c in worse.items()) + " |")
lines += ["", "A pair fails at P when some metric is significantly worse (95% interval entirely on its bad "
          "side) and its estimated change is past P (`loadgen compare --max-regression P`, exit 3). "
          "A1 and A2 are two processes of the normal build; Bn burns n% of A's CPU per request extra."]
write(os.path.join(directory, "calibration"), summary, header("Calibration of the statistical gate", rig, command) + lines)
