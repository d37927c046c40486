#!/usr/bin/env bash
# Checks `loadgen capacity` against a target whose capacity is known by construction: the
# fixed_cost_server example (one worker, a fixed service time per request on a virtual clock,
# so capacity = 1 / service time), pinned to CPU 0, loadgen on CPU 1. Each round is one
# search from the default start (a closed-loop probe / 10) with an SLO that only breaks past
# saturation; the result is the found capacity against the true one, and the steps it took.
#
# Usage: scripts/capacity-truth.sh [--rounds 3] [--service-us 200] [--slo 'p99<5ms']
#                                  [--duration 2s] [--out DIR]
# Writes DIR/capacity-truth-<UTC timestamp>.{json,md} (default DIR: target/bench-runs).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"

ROUNDS=3 SERVICE_US=200 SLO='p99<5ms' DURATION=2s
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    --service-us) SERVICE_US=${2:?}; shift 2 ;;
    --slo) SLO=${2:?}; shift 2 ;;
    --duration) DURATION=${2:?}; shift 2 ;;
    --out) OUT_DIR=${2:?}; shift 2 ;;
    *) echo "capacity-truth.sh: unknown option '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done
require_two_cpus
make_workdir
cargo build --release -p loadgen --example fixed_cost_server --manifest-path "$ROOT/Cargo.toml" >&2
taskset -c 0 "$ROOT/target/release/examples/fixed_cost_server" 127.0.0.1:0 "$SERVICE_US" >"$WORK/addr" &
CMD_PID=$!
for _ in $(seq 1 500); do [ -s "$WORK/addr" ] && break; sleep 0.01; done
URL=$(sed 's/^listening on //' "$WORK/addr")/
for round in $(seq 1 "$ROUNDS"); do
  taskset -c 1 "$ROOT/target/release/loadgen" capacity -t1 -c64 --slo "$SLO" --step-duration "$DURATION" \
    --step-warmup 500ms --no-progress --json "$WORK/round-$round.json" "$URL" >"$WORK/round-$round.txt"
  echo "round $round: $(tail -n 1 "$WORK/round-$round.txt")" >&2
done
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
python3 "$ROOT/scripts/lib/capacity_truth_summary.py" "$WORK" "$ROUNDS" "$SERVICE_US" "$(results_dir)/capacity-truth-$STAMP" \
  "fixed_cost_server (one worker, ${SERVICE_US}us per request) on CPU 0, loadgen capacity -t1 -c64 on CPU 1, steps of $DURATION after 500ms warm-up, $ROUNDS rounds" \
  "scripts/capacity-truth.sh --rounds $ROUNDS --service-us $SERVICE_US --slo '$SLO' --duration $DURATION"
