#!/usr/bin/env bash
# The main job: build, start our server on a free loopback port, load it with loadgen,
# print the reports, stop the server. Nothing is left running, whatever happens.
#
# Usage: scripts/bench.sh [--duration 5s] [--connections 64] [--threads N]
# Scenarios: GET /plaintext, GET /json (closed loop), then /plaintext pipelined x16.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

DURATION=5s CONNS=64 THREADS=""
while [ $# -gt 0 ]; do
  case $1 in
    --duration) DURATION=${2:?--duration needs a value}; shift 2 ;;
    --connections) CONNS=${2:?--connections needs a value}; shift 2 ;;
    --threads) THREADS=${2:?--threads needs a value}; shift 2 ;;
    -h | --help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option '$1' (expected --duration D, --connections N, --threads N)" >&2; exit 2 ;;
  esac
done

echo "== building (release)" >&2
cargo build --release -p server -p loadgen --manifest-path "$ROOT/Cargo.toml" >&2

WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

"$ROOT/target/release/server" --listen 127.0.0.1:0 >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 1 500); do
  [ -s "$WORK/server.out" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.err" >&2; exit 1; }
  sleep 0.01
done
read -r _ _ URL _ <"$WORK/server.out" || { echo "server did not announce its address" >&2; exit 1; }
echo "== server: $(cat "$WORK/server.out")" >&2

LOADGEN=("$ROOT/target/release/loadgen" -c "$CONNS" -d "$DURATION" --no-progress)
[ -n "$THREADS" ] && LOADGEN+=(-t "$THREADS")
for scenario in plaintext json; do
  echo
  "${LOADGEN[@]}" "$URL/$scenario"
done
echo
"${LOADGEN[@]}" --pipeline 16 "$URL/plaintext"

kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || { echo "server exited with an error" >&2; exit 1; }
SERVER_PID=""
echo
cat "$WORK/server.err"
