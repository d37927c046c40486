#!/usr/bin/env bash
# Distributed-run figures on one machine: one loadgen process at R against 3 shards at R/3
# (--shard I/3, one --start-at), rounds interleaved, our server (1 worker) on CPU 0 and every
# loadgen on CPU 1, a fresh server per run so its own request counter covers that run alone.
# Per round: the merged response count vs the server's counter, the merged p50/p99/p99.9 vs
# the same percentiles computed by an independent HdrHistogram reader (the PyPI `hdrhistogram`
# package, Python) from the three shards' histograms, merged rps vs one process's, start
# skew; then the JSON report's size against the run's length (growth per second of timeline,
# extrapolated to 10 minutes).
#
#   flock /tmp/bench.lock scripts/bench-distributed.sh [--rate 30000] [--duration 5s] [--rounds 3] [--out DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"
rate=30000 duration=5s rounds=3 out="" connections=60
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) rate="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "usage: $0 [--rate R] [--duration D] [--rounds N] [--connections C] [--out DIR]" >&2; exit 2 ;;
  esac
done
python3 -c 'import hdrh' 2>/dev/null || pip install -q hdrhistogram
cd "$ROOT"
cargo build --release -q -p loadgen -p server
stamp=$(date -u +%Y%m%dT%H%M%SZ)
WORK=${out:-"$ROOT/target/bench-runs"}/distributed-$stamp
mkdir -p "$WORK"
LOADGEN="$ROOT/target/release/loadgen"
SERVER_PID=""
trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true' EXIT

# Stops the server and sets SERVED to its own request count (from its exit summary).
stop_server() {
  kill -INT "$SERVER_PID"
  wait "$SERVER_PID" || true
  SERVER_PID=""
  SERVED=$(grep -o 'requests [0-9]*' "$WORK/server.err" | head -1 | cut -d' ' -f2)
}

for round in $(seq 1 "$rounds"); do
  # A: one process at R.
  : >"$WORK/server.err"
  start_our_server 0 --workers 1
  url="http://127.0.0.1:$SERVER_PORT/plaintext"
  taskset -c 1 "$LOADGEN" -t1 -c "$connections" -R "$rate" -d "$duration" --start-at +2s --no-progress \
    --json "$WORK/one-$round.json" "$url" >/dev/null
  stop_server
  echo "{\"round\": $round, \"run\": \"one\", \"served\": $SERVED}" >>"$WORK/served.jsonl"
  # B: three shards at R/3, started together.
  : >"$WORK/server.err"
  start_our_server 0 --workers 1
  url="http://127.0.0.1:$SERVER_PORT/plaintext"
  at=$(( $(date +%s) + 3 ))
  shards=()
  for i in 1 2 3; do
    taskset -c 1 "$LOADGEN" -t1 -c "$connections" -R "$rate" -d "$duration" --shard "$i/3" --start-at "$at" \
      --no-progress --json "$WORK/shard-$round-$i.json" "$url" >/dev/null &
    shards+=($!)
  done
  wait "${shards[@]}"
  "$LOADGEN" merge "$WORK"/shard-"$round"-{1,2,3}.json --json "$WORK/merged-$round.json" >"$WORK/merged-$round.txt"
  stop_server
  echo "{\"round\": $round, \"run\": \"merged\", \"served\": $SERVED}" >>"$WORK/served.jsonl"
  echo "round $round done" >&2
done

# Report size against run length: one process at R/3 (a shard's load) for 5 s and 30 s.
start_our_server 0 --workers 1
url="http://127.0.0.1:$SERVER_PORT/plaintext"
for seconds in 5 30; do
  taskset -c 1 "$LOADGEN" -t1 -c 20 -R $((rate / 3)) -d "${seconds}s" --no-progress \
    --json "$WORK/size-$seconds.json" "$url" >/dev/null
done
stop_server

python3 "$ROOT/scripts/lib/distributed_summary.py" "$WORK" "$rate" "$duration" "$rounds" "$connections" \
  "scripts/bench-distributed.sh --rate $rate --duration $duration --rounds $rounds --connections $connections"
