"""Turn one wrk run into a JSON line.  usage: wrk_run.py TARGET SCENARIO TICKS_BEFORE TICKS_AFTER < wrk-output"""
import json
import os
import re
import sys

target, scenario, before, after = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
out = sys.stdin.read()
m = re.search(r"(\d+) requests in ([\d.]+)(\w+), ([\d.]+)(\w+) read", out)
if not m:
    sys.exit(f"could not parse wrk output:\n{out}")
reqs = int(m.group(1))
secs = float(m.group(2)) * {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60}[m.group(3)]
size = float(m.group(4)) * {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}[m.group(5)]
errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
hz = os.sysconf("SC_CLK_TCK")
print(json.dumps({
    "target": target, "scenario": scenario, "requests": reqs, "rps": reqs / secs,
    "mbps": size / secs / 1e6, "cpu_us_per_req": (after - before) * 1e6 / hz / max(reqs, 1),
    "errors": errors, "non2xx": int(non2xx.group(1)) if non2xx else 0,
}))
