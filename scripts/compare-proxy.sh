#!/usr/bin/env bash
# Our reverse proxy against nginx's proxy_pass, driven by loadgen (issue 17's rig).
#
# Backend: our server's /plaintext, one worker on CPU 0. Proxies under test, both one worker
# on CPU 0: ours (--proxy /=http://backend --upstream-keepalive K) and nginx (proxy_pass,
# upstream keepalive K, proxy_http_version 1.1; scripts/nginx-proxy.conf). loadgen -t1 on
# CPU 1, keep-alive /plaintext through the proxy, rounds interleaved (ours, nginx, ...).
# loadgen --server-pid measures the proxy process alone (nginx: master and worker), so
# "CPU-us/req" is what proxying one request costs, without the backend.
#
# --cache: the cache-hit path instead. Ours adds --cache-size 64m --cache-valid 1m, nginx
# proxy_cache with proxy_cache_valid 200 1m (scripts/nginx-proxy-cache.conf; its cache files
# under the scratch directory, open_file_cache on). /plaintext gives no freshness of its own,
# so both cache it by that configured lifetime; one request each warms the cache and must
# then come back X-Cache: HIT, so every measured request is a hit.
# --keepalive: the idle upstream connections both proxies keep (ours --upstream-keepalive,
# nginx's upstream keepalive); issue 17's rig is 64.
#
# Usage: scripts/compare-proxy.sh [--cache] [--rounds 5] [--duration 5s] [--connections 100]
#          [--keepalive 64] [--out DIR]
# Writes DIR (default target/bench-runs/compare-proxy-<UTC timestamp>/, git-ignored): one
# loadgen JSON and .hlog per run, summary.json and summary.md (the table also goes to
# stdout), the latency SVG and throughput-ratio.svg. Run it under flock /tmp/bench.lock.
# Exit: 0 done, 1 a run failed, 2 usage error or nginx missing.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"

ROUNDS=5 DURATION=5s CONNS=100 KEEPALIVE=64 OUT="" CACHE=0
while [ $# -gt 0 ]; do
  case $1 in
    --cache) CACHE=1; shift ;;
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    --duration) DURATION=${2:?}; shift 2 ;;
    --connections) CONNS=${2:?}; shift 2 ;;
    --keepalive) KEEPALIVE=${2:?}; shift 2 ;;
    --out) OUT=${2:?}; shift 2 ;;
    *) echo "compare-proxy.sh: unknown option '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done
require nginx nginx
require_two_cpus
GEN_CPU=1
make_workdir
cargo build --release -p server -p loadgen --manifest-path "$ROOT/Cargo.toml" >&2

start_our_server 0 --workers 1
BACKEND_PORT=$SERVER_PORT CMD_PID=$SERVER_PID # cleanup_workdir stops it too
OURS_CACHE=() NGINX_CONF=nginx-proxy.conf SCENARIO=proxied-plaintext OURS_DESC="" NGINX_DESC=""
if [ "$CACHE" = 1 ]; then
  OURS_CACHE=(--cache-size 64m --cache-valid 1m) NGINX_CONF=nginx-proxy-cache.conf SCENARIO=cache-hit-plaintext
  OURS_DESC=" --cache-size 64m --cache-valid 1m" NGINX_DESC=", proxy_cache + proxy_cache_valid 200 1m + open_file_cache"
  # nginx's workers (nobody, when started as root) write the cache files.
  mkdir -p "$WORK/nginx/cache" && chmod a+rx "$WORK" "$WORK/nginx" && chmod a+rwx "$WORK/nginx/cache"
fi
start_our_server 0 --workers 1 --proxy "/=http://127.0.0.1:$BACKEND_PORT" --upstream-keepalive "$KEEPALIVE" "${OURS_CACHE[@]}"
sed -e "s|@BACKEND@|$BACKEND_PORT|g" -e "s|@KEEPALIVE@|$KEEPALIVE|g" "$ROOT/scripts/$NGINX_CONF" >"$WORK/$NGINX_CONF"
start_nginx 0 "$WORK/$NGINX_CONF"
NGINX_MASTER=$(cat "$WORK/nginx/nginx.pid")
for port in "$SERVER_PORT" "$NGINX_PORT"; do
  curl -fsS "http://127.0.0.1:$port/plaintext" | grep -q 'Hello, World!' ||
    { echo "compare-proxy.sh: the proxy on port $port does not answer /plaintext" >&2; exit 1; }
  if [ "$CACHE" = 1 ]; then
    curl -fsS -D - -o /dev/null "http://127.0.0.1:$port/plaintext" | grep -qi '^X-Cache: HIT' ||
      { echo "compare-proxy.sh: the proxy on port $port does not serve /plaintext from its cache" >&2; exit 1; }
  fi
done
echo "backend: pid $CMD_PID port $BACKEND_PORT; ours: pid $SERVER_PID port $SERVER_PORT; nginx: master $NGINX_MASTER port $NGINX_PORT; all on CPU 0, loadgen on CPU $GEN_CPU" >&2

NAME=compare-proxy
[ "$CACHE" = 1 ] && NAME=compare-proxy-cache
OUT=${OUT:-$ROOT/target/bench-runs/$NAME-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
for round in $(seq 1 "$ROUNDS"); do
  compare_run ours "$SCENARIO" /plaintext "$CONNS" "" "$round" "$SERVER_PID" "$SERVER_PORT"
  compare_run nginx "$SCENARIO" /plaintext "$CONNS" "" "$round" "$NGINX_MASTER" "$NGINX_PORT"
  echo "round $round/$ROUNDS done" >&2
done
python3 "$ROOT/scripts/lib/compare_summary.py" "$OUT" \
  "backend: our server --workers 1 on CPU 0; proxies (ours --workers 1 --upstream-keepalive $KEEPALIVE$OURS_DESC / nginx 1 worker, keepalive $KEEPALIVE$NGINX_DESC) on CPU 0; loadgen -t1 -c$CONNS -d$DURATION on CPU $GEN_CPU; target CPU = the proxy process alone; $ROUNDS rounds interleaved ours/nginx" \
  "scripts/compare-proxy.sh$([ "$CACHE" = 1 ] && echo ' --cache') --rounds $ROUNDS --duration $DURATION --connections $CONNS --keepalive $KEEPALIVE"
compare_charts "$OUT"
kill -INT "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
grep 'proxied' "$WORK/server.err" | tail -n 1 >&2 || true
