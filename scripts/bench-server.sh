#!/usr/bin/env bash
# Server core benchmark: our server vs nginx on /plaintext, wrk as the generator.
#
# Rig: target (server --workers 1, or nginx with 1 worker: access_log off,
# keepalive_requests 1000000, `return 200 "Hello, World!"`) pinned to CPU 0; wrk -t1 pinned
# to CPU 1; rounds interleaved A B A B. Per run: rps (wrk) and the target's CPU-us per
# request. Scenarios: keep-alive, and 16 requests pipelined per write (wrk Lua script).
#
# Usage: scripts/bench-server.sh [--rounds N] [--duration 10s] [--connections 100] [--out DIR]
# Writes DIR/server-core-<UTC timestamp>.{json,md} (DIR: target/bench-runs; bench-results to keep it).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"

ROUNDS=3 DURATION=10s CONNS=100
parse_bench_options "$@"
require wrk wrk
require nginx nginx
require_two_cpus

make_workdir

cargo build --release -p server --manifest-path "$ROOT/Cargo.toml" >&2
start_our_server 0 --workers 1
start_nginx 0 "$ROOT/scripts/nginx-plaintext.conf"
echo "ours: pid $SERVER_PID port $SERVER_PORT; nginx: pids $NGINX_PIDS port $NGINX_PORT" >&2

PIPE=(-s "$ROOT/scripts/pipeline16.lua")
for round in $(seq 1 "$ROUNDS"); do
  wrk_run ours keepalive "$SERVER_PID" -- -t1 -c"$CONNS" -d"$DURATION" "http://127.0.0.1:$SERVER_PORT/plaintext"
  wrk_run nginx keepalive "$NGINX_PIDS" -- -t1 -c"$CONNS" -d"$DURATION" "http://127.0.0.1:$NGINX_PORT/plaintext"
  wrk_run ours pipelined16 "$SERVER_PID" -- -t1 -c"$CONNS" -d"$DURATION" "${PIPE[@]}" "http://127.0.0.1:$SERVER_PORT/plaintext"
  wrk_run nginx pipelined16 "$NGINX_PIDS" -- -t1 -c"$CONNS" -d"$DURATION" "${PIPE[@]}" "http://127.0.0.1:$NGINX_PORT/plaintext"
  echo "round $round/$ROUNDS done" >&2
done

python3 "$ROOT/scripts/lib/summarize.py" "$WORK/runs.jsonl" \
  "$(results_dir)/server-core-$(date -u +%Y%m%dT%H%M%SZ)" \
  "Server core vs nginx 1.22, /plaintext" \
  "target pinned to CPU 0 (server --workers 1 / nginx 1 worker), wrk -t1 -c$CONNS -d$DURATION pinned to CPU 1, $ROUNDS rounds interleaved A B A B" \
  "scripts/bench-server.sh --rounds $ROUNDS --duration $DURATION --connections $CONNS"
