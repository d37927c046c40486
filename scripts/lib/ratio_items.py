"""Print LABEL=MEDIAN:MIN:MAX for each scenario's rps ratio in a compare summary.json
(the items `loadgen plot --bars` takes).  usage: ratio_items.py SUMMARY.json"""
import json
import sys

for name, s in json.load(open(sys.argv[1]))["scenarios"].items():
    r = s["rps_ratio"]
    print(f"{name}={r['median']:.4f}:{r['min']:.4f}:{r['max']:.4f}")
