#!/usr/bin/env bash
# Server core benchmark: our server vs nginx on /plaintext, wrk as the generator.
#
# Rig: target (server --workers 1, or nginx with 1 worker) pinned to CPU 0, wrk -t1 pinned
# to CPU 1, rounds interleaved A B A B. Per run: rps (wrk) and the target's CPU-us per
# request (user+sys from /proc/PID/stat over the run / requests). Two scenarios: plain
# keep-alive, and 16 requests pipelined per write.
#
# Usage: scripts/bench-server.sh [--rounds N] [--duration 10s] [--connections 100]
# Writes bench-results/server-core-<UTC timestamp>.{json,md}.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"

ROUNDS=3 DURATION=10s CONNS=100
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    *) echo "unknown option $1 (expected --rounds N, --duration D, --connections N)" >&2; exit 2 ;;
  esac
done
require wrk wrk
require nginx nginx
[ "$(nproc)" -ge 2 ] || { echo "needs 2 CPUs (target on CPU 0, wrk on CPU 1)" >&2; exit 2; }

WORK=$(mktemp -d)
cleanup() {
  [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null || true
  stop_nginx
  rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release -p server --manifest-path "$ROOT/Cargo.toml" >&2
start_our_server 0 --workers 1
start_nginx_plaintext 0
echo "ours: pid $SERVER_PID port $SERVER_PORT; nginx: pids $NGINX_PIDS port $NGINX_PORT" >&2

# run TARGET SCENARIO PORT PIDS... -> appends a JSON line to $WORK/runs.jsonl
run() {
  local target=$1 scenario=$2 port=$3; shift 3
  local script=()
  [ "$scenario" = pipelined16 ] && script=(-s "$ROOT/scripts/pipeline16.lua")
  local before after out
  before=$(cpu_ticks "$@")
  out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"$DURATION" "${script[@]}" "http://127.0.0.1:$port/plaintext")
  after=$(cpu_ticks "$@")
  python3 - "$target" "$scenario" "$before" "$after" "$(getconf CLK_TCK)" <<PY >>"$WORK/runs.jsonl"
import json, re, sys
target, scenario, before, after, hz = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
out = """$out"""
reqs = int(re.search(r"(\d+) requests in", out).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
cpu_us = (after - before) * 1e6 / hz
print(json.dumps({"target": target, "scenario": scenario, "requests": reqs, "rps": rps,
                  "cpu_us_per_req": cpu_us / reqs, "errors": errors,
                  "non2xx": int(non2xx.group(1)) if non2xx else 0}))
PY
  tail -n1 "$WORK/runs.jsonl" >&2
}

for round in $(seq 1 "$ROUNDS"); do
  for scenario in keepalive pipelined16; do
    run ours "$scenario" "$SERVER_PORT" "$SERVER_PID"
    # shellcheck disable=SC2086
    run nginx "$scenario" "$NGINX_PORT" $NGINX_PIDS
  done
  echo "round $round/$ROUNDS done" >&2
done

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$ROOT/bench-results"
OUT="$ROOT/bench-results/server-core-$STAMP"
python3 - "$WORK/runs.jsonl" "$OUT" "$ROUNDS" "$DURATION" "$CONNS" "$*" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
out, rounds, duration, conns = sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
rig = (f"target pinned to CPU 0 (server --workers 1 / nginx 1 worker), wrk -t1 -c{conns} -d{duration} "
       f"pinned to CPU 1, {rounds} rounds interleaved A B A B")
summary = {"rig": rig, "command": "scripts/bench-server.sh --rounds %d --duration %s --connections %s" % (rounds, duration, conns),
           "runs": runs, "scenarios": {}}
lines = [f"# Server core vs nginx, /plaintext\n", f"Rig: {rig}.\n",
         f"Command: `{summary['command']}`\n",
         "| scenario | ours rps (median) | nginx rps (median) | rps ratio ours/nginx (median, min-max) | ours CPU-us/req | nginx CPU-us/req | CPU ratio ours/nginx (median, min-max) |",
         "|---|---|---|---|---|---|---|"]
for scenario in ["keepalive", "pipelined16"]:
    ours = [r for r in runs if r["target"] == "ours" and r["scenario"] == scenario]
    ngx = [r for r in runs if r["target"] == "nginx" and r["scenario"] == scenario]
    rps_ratio = [a["rps"] / b["rps"] for a, b in zip(ours, ngx)]
    cpu_ratio = [a["cpu_us_per_req"] / b["cpu_us_per_req"] for a, b in zip(ours, ngx)]
    med = statistics.median
    s = {"ours_rps": med(r["rps"] for r in ours), "nginx_rps": med(r["rps"] for r in ngx),
         "rps_ratio": med(rps_ratio), "rps_ratio_min": min(rps_ratio), "rps_ratio_max": max(rps_ratio),
         "ours_cpu_us_per_req": med(r["cpu_us_per_req"] for r in ours),
         "nginx_cpu_us_per_req": med(r["cpu_us_per_req"] for r in ngx),
         "cpu_ratio": med(cpu_ratio), "cpu_ratio_min": min(cpu_ratio), "cpu_ratio_max": max(cpu_ratio),
         "errors": sum(r["errors"] + r["non2xx"] for r in ours + ngx)}
    summary["scenarios"][scenario] = s
    lines.append(f"| {scenario} | {s['ours_rps']:.0f} | {s['nginx_rps']:.0f} | {s['rps_ratio']:.2f} ({s['rps_ratio_min']:.2f}-{s['rps_ratio_max']:.2f}) "
                 f"| {s['ours_cpu_us_per_req']:.2f} | {s['nginx_cpu_us_per_req']:.2f} | {s['cpu_ratio']:.2f} ({s['cpu_ratio_min']:.2f}-{s['cpu_ratio_max']:.2f}) |")
json.dump(summary, open(out + ".json", "w"), indent=2)
open(out + ".md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
print(f"\nwritten: {out}.json {out}.md")
PY
