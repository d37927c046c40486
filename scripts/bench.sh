#!/usr/bin/env bash
# The main job: build, start our server on a free loopback port with a generated static
# directory, run loadgen over the default scenarios (plaintext, json, static 1 KiB, static
# 1 MiB, pipelined plaintext), print each report and a summary table, write
# target/bench-runs/<UTC timestamp>/ (git-ignored; --out DIR elsewhere) (loadgen JSON and SVG per scenario, summary.md), stop the
# server. Nothing is left running, whatever happens.
#
# Usage: scripts/bench.sh [--quick] [--duration 5s] [--connections 64] [--threads N] [--out DIR]
#   --quick   1 s per scenario (CI runs this)
# With 2+ cores the server gets the first half of the CPUs (one worker each) and loadgen the
# rest (--threads defaults to that many).
# Exit: 0 done, 1 a step failed (the message says which), 2 usage error.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"

DURATION=5s CONNS=64 THREADS="" OUT=""
while [ $# -gt 0 ]; do
  case $1 in
    --quick) DURATION=1s; shift ;;
    --duration) DURATION=${2:?--duration needs a value}; shift 2 ;;
    --connections) CONNS=${2:?--connections needs a value}; shift 2 ;;
    --threads) THREADS=${2:?--threads needs a value}; shift 2 ;;
    --out) OUT=${2:?--out needs a value}; shift 2 ;;
    -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option '$1' (expected --quick, --duration D, --connections N, --threads N, --out DIR)" >&2; exit 2 ;;
  esac
done

echo "== building (release)" >&2
cargo build --release -p server -p loadgen --manifest-path "$ROOT/Cargo.toml" >&2 || { echo "bench.sh: build failed" >&2; exit 1; }

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

make_docs "$WORK/docs"
# Split the cores: the server's workers on the first half, loadgen's threads on the rest,
# so neither steals the other's CPU (oversubscription shows up as scheduler-sized p99s).
CPUS=$(nproc)
if [ "$CPUS" -ge 2 ]; then
  HALF=$((CPUS / 2))
  SERVER_CPUS="0-$((HALF - 1))" GEN_CPUS="$HALF-$((CPUS - 1))"
  WORKERS=$HALF THREADS=${THREADS:-$((CPUS - HALF))}
else
  SERVER_CPUS=0 GEN_CPUS=0 WORKERS=1 THREADS=${THREADS:-1}
fi
taskset -c "$SERVER_CPUS" "$ROOT/target/release/server" --listen 127.0.0.1:0 --workers "$WORKERS" --root "$WORK/docs" \
  >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 1 500); do
  [ -s "$WORK/server.out" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "bench.sh: the server did not start:" >&2; cat "$WORK/server.err" >&2; exit 1; }
  sleep 0.01
done
read -r _ _ URL _ <"$WORK/server.out" || { echo "bench.sh: the server did not announce its address" >&2; exit 1; }
echo "== server: $(cat "$WORK/server.out")" >&2

OUT=${OUT:-$ROOT/target/bench-runs/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
echo "== server on CPUs $SERVER_CPUS, loadgen ($THREADS threads) on CPUs $GEN_CPUS" >&2
LOADGEN=(taskset -c "$GEN_CPUS" "$ROOT/target/release/loadgen" -t "$THREADS" -d "$DURATION" --no-progress --server-pid "$SERVER_PID")
for scenario in "${SCENARIOS[@]}"; do
  IFS='|' read -r name path conns extra <<<"$scenario"
  conns=${conns//\$CONNS/$CONNS}
  echo
  # shellcheck disable=SC2086
  "${LOADGEN[@]}" -c "$conns" $extra --json "$OUT/$name.json" --svg "$OUT/$name.svg" "$URL$path" \
    || { echo "bench.sh: loadgen failed on $name" >&2; exit 1; }
done

kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || { echo "bench.sh: the server exited with an error:" >&2; cat "$WORK/server.err" >&2; exit 1; }
SERVER_PID=""
echo
if command -v python3 >/dev/null; then
  python3 "$ROOT/scripts/lib/bench_summary.py" "$OUT" "scripts/bench.sh --duration $DURATION --connections $CONNS --threads $THREADS (server on CPUs $SERVER_CPUS, loadgen on CPUs $GEN_CPUS)"
else
  echo "python3 not found: summary table skipped; the reports are in $OUT/" >&2
fi
echo
tail -n +2 "$WORK/server.err"
