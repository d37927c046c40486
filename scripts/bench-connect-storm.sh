#!/usr/bin/env bash
# A connect storm: how fast loadgen opens N connections and whether the target's listen
# queues overflow, paced (the default --connect-concurrency) and unpaced (--connect-concurrency
# N: every connection started at once), against our server and nginx.
#
# Rig: our server --workers 1 and nginx with one worker (listen backlog: ours 4096, nginx's
# default 511; net.core.somaxconn caps both) pinned to CPU 0; loadgen -t1 -cN -d3s pinned to
# CPU 1, keep-alive /plaintext traffic on every connection once it is open. Per run: the time
# until all N connections were open at once (the report's all_open_s), connect time p50, p99
# and max, connect errors by reason, and the kernel's counters over the run
# (scripts/lib/tcp_counters.py: listen overflows and drops, SYN-queue drops and SYN cookies,
# SYN retransmits). The counters are system-wide: run nothing else meanwhile (the bench lock).
# Rounds interleave ours paced, ours unpaced, nginx paced, nginx unpaced.
#
# --rate R: open loop at R requests/s instead (the report's send lag and backlog show whether
# the connections were there when the requests were due).
#
# Usage: scripts/bench-connect-storm.sh [--connections 10000] [--rounds 3] [--duration 3s]
#                                       [--rate R] [--out DIR]
# Each side needs N + 1000 descriptors (`ulimit -Hn` is 20,000 on the project's VM and root
# cannot raise it there, so 100k connections cannot be measured on it).
# Writes DIR/connect-storm-<UTC timestamp>.{json,md} (DIR defaults to target/bench-runs/).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
INVOCATION="$0 $*"
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"

N=10000 ROUNDS=3 DURATION=3s RATE="" OUT=$ROOT/target/bench-runs
while [ $# -gt 0 ]; do
  case $1 in
    --connections) N=${2:?}; shift 2 ;;
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    --duration) DURATION=${2:?}; shift 2 ;;
    --rate) RATE=${2:?}; shift 2 ;;
    --out) OUT=${2:?}; shift 2 ;;
    *) echo "bench-connect-storm.sh: unknown option '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done
require nginx nginx
require_two_cpus
descriptors_for "$N"
cargo build --release -p server -p loadgen --manifest-path "$ROOT/Cargo.toml" >&2
make_workdir
start_our_server 0 --workers 1 --max-conns "$need"
NGINX_WORKER_CONNECTIONS=$need start_nginx 0 "$ROOT/scripts/nginx-plaintext.conf"
echo "ours: port $SERVER_PORT, nginx: port $NGINX_PORT (CPU 0); loadgen -t1 -c$N -d$DURATION ${RATE:+-R $RATE }on CPU 1" >&2

# storm TARGET PORT MODE ROUND: one loadgen run, one JSON line into runs.jsonl
storm() {
  local target=$1 port=$2 mode=$3 round=$4 pacing=()
  [ "$mode" = unpaced ] && pacing=(--connect-concurrency "$N")
  [ -n "$RATE" ] && pacing+=(-R "$RATE")
  python3 "$ROOT/scripts/lib/tcp_counters.py" >"$WORK/before.json"
  taskset -c 1 "$ROOT/target/release/loadgen" -t1 -c"$N" -d"$DURATION" "${pacing[@]}" --no-progress \
    --json "$WORK/r.json" "http://127.0.0.1:$port/plaintext" >"$WORK/r.txt" 2>&1 ||
    { echo "loadgen failed ($target $mode):" >&2; cat "$WORK/r.txt" >&2; exit 1; }
  python3 "$ROOT/scripts/lib/tcp_counters.py" >"$WORK/after.json"
  python3 - "$target" "$mode" "$round" "$WORK" <<'PY' | tee -a "$WORK/runs.jsonl" >&2
import json, sys
target, mode, round_, work = sys.argv[1:]
r = json.load(open(f"{work}/r.json"))
before, after = json.load(open(f"{work}/before.json")), json.load(open(f"{work}/after.json"))
c = r["connect_us"]
print(json.dumps({
    "target": target, "mode": mode, "round": int(round_), "connections": r["connections"],
    "opened": r["connections_opened"], "all_open_s": r.get("all_open_s"),
    "connect_p50_us": c["p50"], "connect_p99_us": c["p99"], "connect_max_us": c["max"],
    "connect_errors": r["errors"]["connect"], "connect_reasons": r["errors"]["connect_reasons"],
    "rps": r["rps"], "latency_p99_us": r["latency_us"]["p99"],
    "send_lag_p50_us": (r.get("send_lag_us") or {}).get("p50"), "backlog": r.get("backlog"),
    "kernel": {k: after[k] - before[k] for k in after},
}))
PY
  sleep 0.5 # let the target close the run's connections
}

for round in $(seq 1 "$ROUNDS"); do
  storm ours "$SERVER_PORT" paced "$round"
  storm ours "$SERVER_PORT" unpaced "$round"
  storm nginx "$NGINX_PORT" paced "$round"
  storm nginx "$NGINX_PORT" unpaced "$round"
done
mkdir -p "$OUT"
python3 "$ROOT/scripts/lib/connect_storm_summary.py" "$WORK/runs.jsonl" \
  "$OUT/connect-storm-$(date -u +%Y%m%dT%H%M%SZ)" "$N" "$DURATION" "$INVOCATION" "$RATE"
