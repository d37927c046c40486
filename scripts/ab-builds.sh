#!/usr/bin/env bash
# Two builds of this project, A/B in one run: did a change make the server or loadgen
# slower? Each directory holds a release `server` and `loadgen` (e.g. a worktree's
# target/release, or target/release after `git stash`).
#
#   scripts/ab-builds.sh BASE_BIN_DIR NEW_BIN_DIR [--rounds 4] [--duration 5s] [--connections 64] [--tls | --proxy] [--out DIR]
#
# Rig: target server --workers 1 pinned to CPU 0, loadgen -t1 pinned to CPU 1, rounds
# interleaved base, new, base, new. Server role: both servers driven by NEW's loadgen, the
# target's CPU-us per request from --server-pid. Generator role: both loadgens against NEW's
# server, the generator's own CPU-us per request and rps. Scenarios: /plaintext keep-alive
# and pipelined x16; churn (loadgen --no-keepalive: a connection per request, so CPU-us per
# request is per connection) in the server role, and in the generator role too when BASE's
# loadgen has --no-keepalive. --tls: the same over HTTPS (one ECDSA
# P-256 certificate), churn resuming sessions, plus full-handshake churn (--no-tls-resume)
# and a 1 MiB file at -c16 (the servers get --root with scripts/lib/common.sh's files).
# --proxy: both servers are reverse proxies (--proxy /=BACKEND --upstream-keepalive 64) in
# front of one backend, NEW's server --workers 1, also on CPU 0; the server role only, the
# proxy's CPU alone.
# Writes ab-builds.{json,md} to --out (default target/bench-runs/<time>).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] || { sed -n '2,20p' "$0"; exit 2; }
BASE=$(cd "$1" && pwd) NEW=$(cd "$2" && pwd)
shift 2
ROUNDS=4 DURATION=5s CONNS=64 OUT="" TLS=0 PROXY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --tls) TLS=1; shift ;;
    --proxy) PROXY=1; shift ;;
    *) echo "ab-builds.sh: unknown flag $1" >&2; exit 2 ;;
  esac
done
[ "$TLS$PROXY" != 11 ] || { echo "ab-builds.sh: --tls and --proxy do not go together" >&2; exit 2; }
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
SCHEME=http HOST=127.0.0.1 LOADGEN_TLS="" SERVER_FLAGS=() AB_SCENARIOS=(keepalive pipelined16 churn)
if [ "$TLS" = 1 ]; then
  # shellcheck source=lib/common.sh
  source "$ROOT/scripts/lib/common.sh"
  use_tls "$WORK/tls"
  make_docs "$WORK/docs"
  SERVER_FLAGS+=(--root "$WORK/docs")
  AB_SCENARIOS+=(full-handshake static-1MiB)
fi

start_server() { # bin dir [extra flags] -> sets PID PORT
  taskset -c 0 "$1/server" --listen 127.0.0.1:0 --workers 1 "${@:2}" >"$WORK/line" 2>/dev/null &
  PID=$!
  for _ in $(seq 1 500); do [ -s "$WORK/line" ] && break; sleep 0.01; done
  PORT=$(sed -E 's|.*127\.0\.0\.1:([0-9]+) .*|\1|' "$WORK/line")
  : >"$WORK/line"
}

RUNS="$OUT/runs.jsonl"
: >"$RUNS"
run() { # role build scenario loadgen_dir port server_pid extra...
  local role=$1 build=$2 scenario=$3 gen=$4 port=$5 spid=$6; shift 6
  # shellcheck disable=SC2086
  taskset -c 1 "$gen/loadgen" -t1 -c"$RUN_CONNS" -d"$DURATION" --no-progress --server-pid "$spid" \
    --json "$WORK/r.json" $LOADGEN_TLS "$@" "$SCHEME://$HOST:$port$TARGET_PATH" >/dev/null 2>&1
  python3 - "$WORK/r.json" "$role" "$build" "$scenario" >>"$RUNS" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
print(json.dumps({"role": sys.argv[2], "build": sys.argv[3], "scenario": sys.argv[4], "rps": r["rps"],
                  "server_cpu_us_per_req": r["target"]["cpu_us_per_request"],
                  "generator_cpu_us_per_req": r["generator"]["cpu_us_per_request"],
                  "errors": r["errors"]["total"]}))
EOF
}

BASE_CHURNS=0
"$BASE/loadgen" --help | grep -q -- --no-keepalive && BASE_CHURNS=1
RIG="server --workers 1 on CPU 0"
if [ "$PROXY" = 1 ]; then
  start_server "$NEW"
  SERVER_FLAGS+=(--proxy "/=http://127.0.0.1:$PORT" --upstream-keepalive 64)
  RIG="proxy (server --workers 1 --proxy /=BACKEND --upstream-keepalive 64) on CPU 0 in front of NEW's server --workers 1 on CPU 0; the proxy's CPU alone"
fi
start_server "$BASE" "${SERVER_FLAGS[@]}"; BASE_PID=$PID BASE_PORT=$PORT
start_server "$NEW" "${SERVER_FLAGS[@]}"; NEW_PID=$PID NEW_PORT=$PORT
for round in $(seq 1 "$ROUNDS"); do
  for scenario in "${AB_SCENARIOS[@]}"; do
    extra=() TARGET_PATH=/plaintext RUN_CONNS=$CONNS
    case $scenario in
      pipelined16) extra=(--pipeline 16) ;;
      churn) extra=(--no-keepalive) ;;
      full-handshake) extra=(--no-keepalive --no-tls-resume) ;;
      static-1MiB) TARGET_PATH=/1m.bin RUN_CONNS=16 ;;
    esac
    run server base "$scenario" "$NEW" "$BASE_PORT" "$BASE_PID" "${extra[@]}"
    run server new "$scenario" "$NEW" "$NEW_PORT" "$NEW_PID" "${extra[@]}"
    [ "$PROXY" = 0 ] || continue # the generator role has nothing to do with the proxy
    # An older loadgen may not have --no-keepalive.
    case $scenario in churn | full-handshake) [ "$BASE_CHURNS" = 1 ] || continue ;; esac
    run generator base "$scenario" "$BASE" "$NEW_PORT" "$NEW_PID" "${extra[@]}"
    run generator new "$scenario" "$NEW" "$NEW_PORT" "$NEW_PID" "${extra[@]}"
  done
  echo "round $round/$ROUNDS done" >&2
done

python3 "$ROOT/scripts/lib/ab_summary.py" "$RUNS" "$OUT/ab-builds" "$BASE" "$NEW" \
  "$RIG, loadgen -t1 -c$CONNS -d$DURATION on CPU 1, $ROUNDS rounds interleaved base/new" \
  "scripts/ab-builds.sh BASE NEW --rounds $ROUNDS --duration $DURATION --connections $CONNS$([ "$TLS" = 1 ] && echo " --tls" || true)$([ "$PROXY" = 1 ] && echo " --proxy" || true)"
