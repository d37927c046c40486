#!/usr/bin/env bash
# Same-settings comparison of our server with nginx, driven by loadgen.
#
# Generates an nginx config with our server's settings (workers, keep-alive limits, access
# log off, sendfile + open_file_cache for files, `return` for /plaintext, a static JSON file
# for /json), starts both on loopback with the same document root, pins the targets to the
# first CPU(s) and loadgen to the last one (with 2+ cores), and runs each scenario as
# interleaved rounds (ours, nginx, ours, nginx, ...). Per scenario: rps, p50, p99 and target
# CPU-us per request (loadgen --server-pid) for both, and ours/nginx ratios with their spread.
#
# --tls: both serve HTTPS with one ECDSA P-256 certificate (nginx: TLSv1.2 TLSv1.3, session
# tickets on), and the scenarios are HTTPS keep-alive /plaintext at c=100, full and resumed
# handshakes (a new connection per request: target CPU per request = per connection), and a
# 1 MiB file at c=16 (rps ratio = MB/s ratio).
#
# --churn: only connection churn (loadgen --no-keepalive -c50, a new connection per request).
#
# --capacity SLO: each server's capacity at the SLO (loadgen capacity --slo SLO, e.g.
# 'p99<2ms') on /plaintext and the 1 KiB file, steps of --duration; the headline is the
# ratio of the capacities, and DIR/<scenario>.svg holds both latency-vs-throughput curves.
#
# Usage: scripts/compare-nginx.sh [--rounds 3] [--duration 5s] [--connections 64]
#                                 [--workers 1] [--tls | --churn | --capacity SLO] [--quick] [--out DIR]
# Writes DIR (default target/bench-runs/compare-nginx-<UTC timestamp>/, git-ignored): one loadgen JSON and
# .hlog per run, summary.json and summary.md (the table also goes to stdout), an SVG per
# scenario with both latency curves, and throughput-ratio.svg (ours/nginx with spread).
# Exit: 0 done, 1 a run failed, 2 usage error or nginx missing.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"

ROUNDS=3 DURATION=5s CONNS=64 WORKERS=1 OUT="" TLS=0 CHURN=0 CAPACITY=""
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    --duration) DURATION=${2:?}; shift 2 ;;
    --connections) CONNS=${2:?}; shift 2 ;;
    --workers) WORKERS=${2:?}; shift 2 ;;
    --out) OUT=${2:?}; shift 2 ;;
    --quick) ROUNDS=2 DURATION=2s; shift ;;
    --tls) TLS=1; shift ;;
    --churn) CHURN=1; shift ;;
    --capacity) CAPACITY=${2:?--capacity needs an SLO, e.g. 'p99<2ms'}; shift 2 ;;
    *) echo "compare-nginx.sh: unknown option '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done
if ! command -v nginx >/dev/null; then
  echo "nginx is not installed. Install it with: apt-get install -y nginx (Debian/Ubuntu)" >&2
  exit 2
fi

compare_setup "$WORKERS"
MODE=$([ "$TLS" = 1 ] && echo "-tls" || true)$([ "$CHURN" = 1 ] && echo "-churn" || true)$([ -n "$CAPACITY" ] && echo "-capacity" || true)
OUT=${OUT:-$ROOT/target/bench-runs/compare-nginx$MODE-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
compare_rounds
SUMMARY=compare_summary.py
[ -n "$CAPACITY" ] && SUMMARY=capacity_summary.py
python3 "$ROOT/scripts/lib/$SUMMARY" "$OUT" \
  "target CPUs $TARGET_CPUS (server --workers $WORKERS / nginx $WORKERS workers), loadgen -t1 -d$DURATION on CPU $GEN_CPU, $ROUNDS rounds interleaved ours/nginx" \
  "scripts/compare-nginx.sh --rounds $ROUNDS --duration $DURATION --connections $CONNS --workers $WORKERS$([ "$TLS" = 1 ] && echo " --tls" || true)$([ "$CHURN" = 1 ] && echo " --churn" || true)$([ -n "$CAPACITY" ] && echo " --capacity '$CAPACITY'" || true)"
compare_charts "$OUT"
if [ -n "$CAPACITY" ]; then
  echo "charts: $OUT/<scenario>.svg (latency vs throughput, both servers)" >&2
else
  echo "charts: $OUT/<scenario>.svg (latency curves), $OUT/throughput-ratio.svg" >&2
fi
