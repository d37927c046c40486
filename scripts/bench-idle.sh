#!/usr/bin/env bash
# What an idle keep-alive connection costs: our server vs nginx, in memory and in the
# latency of the traffic that is still active.
#
# Per round and target (ours --workers 1, nginx 1 worker, both on CPU 0): loadgen
# -t1 -c50 -d3s on CPU 1 (p99 before), then N connections that each make one /plaintext
# request and stay open (scripts/lib/idle_clients.py), the target's worker RSS before and
# after (/proc/PID/status VmRSS), loadgen again while they are held (p99 during), and one
# more request on every idle connection (all must be answered). Rounds interleave ours,
# nginx, ours, nginx.
#
# Usage: scripts/bench-idle.sh [--connections 10000] [--rounds 3] [--out DIR]
# Both processes need N + 1000 descriptors: N is limited by `ulimit -Hn` (20,000 on the
# project's VM, which root cannot raise there, so 100k connections cannot be measured on it).
# Writes DIR/idle-<UTC timestamp>.{json,md} (DIR defaults to target/bench-runs/).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
INVOCATION="$0 $*"
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"

IDLE=10000 ROUNDS=3 OUT=$ROOT/target/bench-runs
while [ $# -gt 0 ]; do
  case $1 in
    --connections) IDLE=${2:?}; shift 2 ;;
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    --out) OUT=${2:?}; shift 2 ;;
    *) echo "bench-idle.sh: unknown option '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done
require nginx nginx
require_two_cpus
descriptors_for "$IDLE"
cargo build --release -p server -p loadgen --manifest-path "$ROOT/Cargo.toml" >&2
make_workdir

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# measure TARGET ROUND PID PORT: one JSON line into $WORK/runs.jsonl
measure() {
  local target=$1 round=$2 pid=$3 port=$4 before after p99_before p99_during answered
  local lg=("$ROOT/target/release/loadgen" -t1 -c50 -d3s --no-progress --json -)
  p99_before=$(taskset -c 1 "${lg[@]}" "http://127.0.0.1:$port/plaintext" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["latency_us"]["p99"])')
  before=$(rss_kb "$pid")
  coproc IDLERS { taskset -c 1 python3 "$ROOT/scripts/lib/idle_clients.py" "$port" "$IDLE"; }
  read -r line <&"${IDLERS[0]}"
  [ "$line" = ready ] || { echo "idle clients failed: $line" >&2; exit 1; }
  after=$(rss_kb "$pid")
  p99_during=$(taskset -c 1 "${lg[@]}" "http://127.0.0.1:$port/plaintext" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["latency_us"]["p99"])')
  echo again >&"${IDLERS[1]}"
  read -r line <&"${IDLERS[0]}"
  answered=${line#answered }
  exec {IDLERS[1]}>&-
  wait "$IDLERS_PID" 2>/dev/null || true
  echo "{\"target\": \"$target\", \"round\": $round, \"idle\": $IDLE, \"rss_before_kb\": $before, \"rss_after_kb\": $after, \"bytes_per_conn\": $(( (after - before) * 1024 / IDLE )), \"p99_before_us\": $p99_before, \"p99_during_us\": $p99_during, \"answered\": $answered}" | tee -a "$WORK/runs.jsonl" >&2
}

for round in $(seq 1 "$ROUNDS"); do
  start_our_server 0 --workers 1 --max-conns "$need"
  measure ours "$round" "$SERVER_PID" "$SERVER_PORT"
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
  NGINX_WORKER_CONNECTIONS=$need start_nginx 0 "$ROOT/scripts/nginx-plaintext.conf"
  measure nginx "$round" "$(pgrep -P "$(cat "$WORK/nginx/nginx.pid")")" "$NGINX_PORT"
  stop_nginx
done
mkdir -p "$OUT"
python3 "$ROOT/scripts/lib/idle_summary.py" "$WORK/runs.jsonl" "$OUT/idle-$(date -u +%Y%m%dT%H%M%SZ)" "$INVOCATION"
