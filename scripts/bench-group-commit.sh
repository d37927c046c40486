#!/usr/bin/env bash
# Like API benchmark: likes per second with group commit vs one transaction per like, at each
# connection count, and the CPU cost of GET /api/posts/{id} next to GET /json.
#
# Rig: server --workers 1 pinned to CPU 0 (fresh database per likes run), loadgen -t1 pinned to
# CPU 1, rounds interleaved (group commit, then one transaction per like, per connection
# count). The likes come from a loadgen targets file: every (user, post) pair is liked in one
# pass and unliked in the next, and a like and its unlike are USERS*POSTS requests apart, so
# no request is a no-op and every one needs a commit.
#
# Usage: scripts/bench-group-commit.sh [--rounds N] [--duration 5s] [--connections "64 256"]
# Writes DIR/likes-<UTC timestamp>.{json,md} (--out DIR; default target/bench-runs, bench-results to keep it).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"

ROUNDS=3 DURATION=5s CONNS="64 256" USERS=200 POSTS=50
parse_bench_options "$@"
require curl curl
require_two_cpus

make_workdir
cargo build --release -p server -p loadgen --manifest-path "$ROOT/Cargo.toml" >&2
BIN=$ROOT/target/release/server
head -c 32 /dev/urandom | base64 >"$WORK/secret"

# The targets, with @BASE@ for the server's address (a new port per start).
for u in $(seq 1 "$USERS"); do
  echo "$u $("$BIN" token --user "$u" --auth-secret-file "$WORK/secret")"
done >"$WORK/tokens"
for verb in POST DELETE; do
  for p in $(seq 1 "$POSTS"); do
    while read -r _ token; do
      printf '%s @BASE@/api/posts/%d/like\nAuthorization: Bearer %s\n\n' "$verb" "$p" "$token"
    done <"$WORK/tokens"
  done
done >"$WORK/likes.template"

# start_api [SERVER FLAGS...]: a fresh server and database with POSTS posts; writes the
# targets file for its port.
start_api() {
  stop_api
  rm -rf "$WORK/data"
  start_our_server 0 --workers 1 --auth-secret-file "$WORK/secret" --data-dir "$WORK/data" "$@"
  local token
  token=$("$BIN" token --user 1 --auth-secret-file "$WORK/secret")
  for _ in $(seq 1 "$POSTS"); do
    curl -sf -X POST -H "Authorization: Bearer $token" -d '{"title":"bench"}' \
      "http://127.0.0.1:$SERVER_PORT/api/posts" >/dev/null
  done
  sed "s|@BASE@|http://127.0.0.1:$SERVER_PORT|" "$WORK/likes.template" >"$WORK/likes.txt"
}
stop_api() {
  if [ -n "${SERVER_PID:-}" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}

# run MODE SCENARIO CONNS LOADGEN-ARGS...: one loadgen run on CPU 1, a JSON line in runs.jsonl.
run() {
  local mode=$1 scenario=$2 conns=$3; shift 3
  local out="$WORK/run.json"
  taskset -c 1 "$ROOT/target/release/loadgen" -t1 -c"$conns" -d"$DURATION" --no-progress \
    --server-pid "$SERVER_PID" --json "$out" "$@" >/dev/null
  python3 - "$out" "$mode" "$scenario" "$conns" >>"$WORK/runs.jsonl" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ok = sum(n for code, n in r["status"].items() if code.startswith("2"))
print(json.dumps({
    "mode": sys.argv[2], "scenario": sys.argv[3], "connections": int(sys.argv[4]),
    "requests": r["requests"], "rps": r["rps"], "p50_us": r["latency_us"]["p50"],
    "p99_us": r["latency_us"]["p99"], "cpu_us_per_req": r["target"]["cpu_us_per_request"],
    "errors": r["errors"]["total"], "non2xx": r["requests"] - ok,
}))
PY
  tail -n1 "$WORK/runs.jsonl" >&2
}

FIRST_CONNS=${CONNS%% *}
for round in $(seq 1 "$ROUNDS"); do
  for c in $CONNS; do
    start_api
    run group-commit likes "$c" --targets "$WORK/likes.txt"
    start_api --no-group-commit
    run per-request likes "$c" --targets "$WORK/likes.txt"
  done
  start_api
  run group-commit get-post "$FIRST_CONNS" "http://127.0.0.1:$SERVER_PORT/api/posts/7"
  run group-commit json "$FIRST_CONNS" "http://127.0.0.1:$SERVER_PORT/json"
  echo "round $round/$ROUNDS done" >&2
done
stop_api

OUT="$(results_dir)/likes-$(date -u +%Y%m%dT%H%M%SZ)"
python3 "$ROOT/scripts/lib/group_commit_summary.py" "$WORK/runs.jsonl" "$OUT" \
  "scripts/bench-group-commit.sh --rounds $ROUNDS --duration $DURATION --connections \"$CONNS\"" \
  "server --workers 1 pinned to CPU 0, fresh SQLite database per likes run (WAL, synchronous=FULL); loadgen -t1 -d$DURATION pinned to CPU 1; $ROUNDS rounds interleaved; $USERS users x $POSTS posts"
