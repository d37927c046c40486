#!/usr/bin/env bash
# Two builds of this project, A/B in one run: did a change make the server or loadgen
# slower? Each directory holds a release `server` and `loadgen` (e.g. a worktree's
# target/release, or target/release after `git stash`).
#
#   scripts/ab-builds.sh BASE_BIN_DIR NEW_BIN_DIR [--rounds 4] [--duration 5s] [--connections 64] [--out DIR]
#
# Rig: target server --workers 1 pinned to CPU 0, loadgen -t1 pinned to CPU 1, rounds
# interleaved base, new, base, new. Server role: both servers driven by NEW's loadgen, the
# target's CPU-us per request from --server-pid. Generator role: both loadgens against NEW's
# server, the generator's own CPU-us per request and rps. Scenarios: /plaintext keep-alive
# and pipelined x16; server role also churn (NEW's loadgen --no-keepalive: a connection per
# request, so CPU-us per request is per connection). Writes ab-builds.{json,md} to --out (default target/bench-runs/<time>).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] || { sed -n '2,12p' "$0"; exit 2; }
BASE=$(cd "$1" && pwd) NEW=$(cd "$2" && pwd)
shift 2
ROUNDS=4 DURATION=5s CONNS=64 OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "ab-builds.sh: unknown flag $1" >&2; exit 2 ;;
  esac
done
for d in "$BASE" "$NEW"; do
  for b in server loadgen; do
    [ -x "$d/$b" ] || { echo "ab-builds.sh: no $b in $d" >&2; exit 2; }
  done
done
[ "$(nproc)" -ge 2 ] || { echo "ab-builds.sh: needs 2 CPUs (target on 0, generator on 1)" >&2; exit 2; }
OUT=${OUT:-$ROOT/target/bench-runs/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT

start_server() { # bin dir -> sets PID PORT
  taskset -c 0 "$1/server" --listen 127.0.0.1:0 --workers 1 >"$WORK/line" 2>/dev/null &
  PID=$!
  for _ in $(seq 1 500); do [ -s "$WORK/line" ] && break; sleep 0.01; done
  PORT=$(sed -E 's|.*127\.0\.0\.1:([0-9]+) .*|\1|' "$WORK/line")
  : >"$WORK/line"
}

RUNS="$OUT/runs.jsonl"
: >"$RUNS"
run() { # role build scenario loadgen_dir port server_pid extra...
  local role=$1 build=$2 scenario=$3 gen=$4 port=$5 spid=$6; shift 6
  taskset -c 1 "$gen/loadgen" -t1 -c"$CONNS" -d"$DURATION" --no-progress --server-pid "$spid" \
    --json "$WORK/r.json" "$@" "http://127.0.0.1:$port/plaintext" >/dev/null 2>&1
  python3 - "$WORK/r.json" "$role" "$build" "$scenario" >>"$RUNS" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
print(json.dumps({"role": sys.argv[2], "build": sys.argv[3], "scenario": sys.argv[4], "rps": r["rps"],
                  "server_cpu_us_per_req": r["target"]["cpu_us_per_request"],
                  "generator_cpu_us_per_req": r["generator"]["cpu_us_per_request"],
                  "errors": r["errors"]["total"]}))
EOF
}

start_server "$BASE"; BASE_PID=$PID BASE_PORT=$PORT
start_server "$NEW"; NEW_PID=$PID NEW_PORT=$PORT
for round in $(seq 1 "$ROUNDS"); do
  for scenario in keepalive pipelined16 churn; do
    extra=()
    [ "$scenario" = pipelined16 ] && extra=(--pipeline 16)
    [ "$scenario" = churn ] && extra=(--no-keepalive)
    run server base "$scenario" "$NEW" "$BASE_PORT" "$BASE_PID" "${extra[@]}"
    run server new "$scenario" "$NEW" "$NEW_PORT" "$NEW_PID" "${extra[@]}"
    [ "$scenario" = churn ] && continue # an older loadgen may not have --no-keepalive
    run generator base "$scenario" "$BASE" "$NEW_PORT" "$NEW_PID" "${extra[@]}"
    run generator new "$scenario" "$NEW" "$NEW_PORT" "$NEW_PID" "${extra[@]}"
  done
  echo "round $round/$ROUNDS done" >&2
done

python3 "$ROOT/scripts/lib/ab_summary.py" "$RUNS" "$OUT/ab-builds" "$BASE" "$NEW" \
  "server --workers 1 on CPU 0, loadgen -t1 -c$CONNS -d$DURATION on CPU 1, $ROUNDS rounds interleaved base/new" \
  "scripts/ab-builds.sh BASE NEW --rounds $ROUNDS --duration $DURATION --connections $CONNS"
