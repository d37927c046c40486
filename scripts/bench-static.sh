#!/usr/bin/env bash
# Static files benchmark: our server --root vs nginx (sendfile on, tcp_nopush on,
# open_file_cache on, access_log off, 1 worker) serving the same directory.
#
# Rig: target pinned to CPU 0, generator (wrk -t1) pinned to CPU 1, rounds interleaved
# A B A B. Scenarios: a 1 KiB file at -c100 (CPU-us/req) and a 1 MiB file at -c16 (MB/s).
#
# Usage: scripts/bench-static.sh [--rounds N] [--duration 10s] [--connections 100 (the 1 KiB scenario)]
# Writes DIR/static-<UTC timestamp>.{json,md} (--out DIR; default target/bench-runs, bench-results to keep it).
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

DOCS="$WORK/docs"
make_docs "$DOCS"
chmod -R a+rX "$WORK"

cargo build --release -p server --manifest-path "$ROOT/Cargo.toml" >&2
start_our_server 0 --workers 1 --root "$DOCS"
start_nginx 0 "$ROOT/scripts/nginx-static.conf" "$DOCS"
echo "ours: pid $SERVER_PID port $SERVER_PORT; nginx: pids $NGINX_PIDS port $NGINX_PORT" >&2
for port in "$SERVER_PORT" "$NGINX_PORT"; do
  curl -sf "http://127.0.0.1:$port/1m.bin" | cmp -s - "$DOCS/1m.bin" || { echo "port $port does not serve 1m.bin correctly" >&2; exit 1; }
done

for round in $(seq 1 "$ROUNDS"); do
  wrk_run ours file-1KiB-c100 "$SERVER_PID" -- -t1 -c"$CONNS" -d"$DURATION" "http://127.0.0.1:$SERVER_PORT/1k.bin"
  wrk_run nginx file-1KiB-c100 "$NGINX_PIDS" -- -t1 -c"$CONNS" -d"$DURATION" "http://127.0.0.1:$NGINX_PORT/1k.bin"
  wrk_run ours file-1MiB-c16 "$SERVER_PID" -- -t1 -c16 -d"$DURATION" "http://127.0.0.1:$SERVER_PORT/1m.bin"
  wrk_run nginx file-1MiB-c16 "$NGINX_PIDS" -- -t1 -c16 -d"$DURATION" "http://127.0.0.1:$NGINX_PORT/1m.bin"
  echo "round $round/$ROUNDS done" >&2
done

python3 "$ROOT/scripts/lib/summarize.py" "$WORK/runs.jsonl" \
  "$(results_dir)/static-$(date -u +%Y%m%dT%H%M%SZ)" \
  "Static files vs nginx 1.22 (sendfile, tcp_nopush, open_file_cache)" \
  "target pinned to CPU 0 (server --workers 1 --root / nginx 1 worker), wrk -t1 pinned to CPU 1, -d$DURATION, $ROUNDS rounds interleaved A B A B" \
  "scripts/bench-static.sh --rounds $ROUNDS --duration $DURATION"
