#!/usr/bin/env bash
# How often does the statistical gate (`loadgen compare --base ... --new ...`) cry wolf, and
# how often does it catch a real slowdown? Runs A/A and A/B pairs against servers started
# side by side and prints the false-alarm and detection rates.
#
#   scripts/calibrate-gate.sh [--pairs 5] [--rounds 3] [--duration 2s] [--connections 64]
#                             [--slowdowns 5,10] [--out DIR]
#
# Servers (each --workers 1, pinned to CPU 0; loadgen -t1 on CPU 1): A1 and A2, two
# processes of the normal build, and one process of the calibration build
# (`--features calibration-slowdown`) per slowdown, burning that percentage of A's measured
# CPU per request on every request (EVLOOP_CALIBRATION_SPIN_NS). A pair is ROUNDS runs of
# each server, interleaved (the order rotates every round). Each pair is judged by
# `loadgen compare --base A1... --new X...` with its default metrics (rps, p50, p99, errors,
# target CPU per request): A1 vs A2 is an A/A pair (an alarm is false), A1 vs a slowed
# server an A/B pair (an alarm is a detection). Also judged paired (`--paired`), and with
# two consecutive pairs joined (twice the rounds a side).
#
# --out DIR accumulates: pairs already in DIR are kept and new ones numbered after them, so
# the calibration can run in pieces of a few minutes, each under the bench lock:
#   flock /tmp/bench.lock scripts/calibrate-gate.sh --pairs 5 --out DIR     (x4)
# The summary (DIR/calibration.{json,md}) is rewritten after every piece, over all pairs;
# `--pairs 0` only judges what DIR holds (after one probe run to size the spin).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"

PAIRS=5 ROUNDS=3 DURATION=2s CONNS=64 SLOWDOWNS=5,10 OUT=""
while [ $# -gt 0 ]; do
  case $1 in
    --pairs) PAIRS=${2:?}; shift 2 ;;
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    --duration) DURATION=${2:?}; shift 2 ;;
    --connections) CONNS=${2:?}; shift 2 ;;
    --slowdowns) SLOWDOWNS=${2:?}; shift 2 ;;
    --out) OUT=${2:?}; shift 2 ;;
    *) echo "calibrate-gate.sh: unknown option '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done
require_two_cpus
OUT=${OUT:-$ROOT/target/bench-runs/calibrate-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT/runs" "$OUT/verdicts"
make_workdir

cargo build --release -p server -p loadgen --manifest-path "$ROOT/Cargo.toml" >&2
# The slowed build in its own target directory, so target/release keeps the normal one.
cargo build --release -p server --features calibration-slowdown \
  --manifest-path "$ROOT/Cargo.toml" --target-dir "$ROOT/target/calibration" >&2
LOADGEN=$ROOT/target/release/loadgen SLOW_SERVER=$ROOT/target/calibration/release/server

# start NAME BINARY SPIN_NS: a server on CPU 0; sets PIDS[NAME] and PORTS[NAME].
declare -A PIDS PORTS BINS SPINS
start() {
  local name=$1 bin=$2 spin=$3
  BINS[$name]=$bin SPINS[$name]=$spin
  EVLOOP_CALIBRATION_SPIN_NS=$spin taskset -c 0 "$bin" --listen 127.0.0.1:0 --workers 1 \
    >"$WORK/$name.line" 2>>"$WORK/server.err" &
  PIDS[$name]=$!
  for _ in $(seq 1 500); do [ -s "$WORK/$name.line" ] && break; sleep 0.01; done
  PORTS[$name]=$(sed -E 's|.*127\.0\.0\.1:([0-9]+) .*|\1|' "$WORK/$name.line")
  [ -n "${PORTS[$name]}" ] || { echo "server $name did not start: $(cat "$WORK/server.err")" >&2; exit 1; }
}
# cleanup_workdir stops SERVER_PID only: stop them all.
trap 'kill "${PIDS[@]}" 2>/dev/null; cleanup_workdir' EXIT

run() { # NAME FILE
  # A server that went away (the machine is shared) comes back, and the log says so.
  if ! kill -0 "${PIDS[$1]}" 2>/dev/null; then
    echo "server $1 (pid ${PIDS[$1]}) had exited: started again" | tee -a "$OUT/restarts.txt" >&2
    start "$1" "${BINS[$1]}" "${SPINS[$1]}"
  fi
  taskset -c 1 "$LOADGEN" -t1 -c"$CONNS" -d"$DURATION" --no-progress --server-pid "${PIDS[$1]}" \
    --json "$2" "http://127.0.0.1:${PORTS[$1]}/plaintext" >/dev/null 2>>"$WORK/loadgen.err" \
    || { echo "loadgen failed against $1: $(tail -n 3 "$WORK/loadgen.err")" >&2; exit 1; }
}

start A1 "$ROOT/target/release/server" 0
start A2 "$ROOT/target/release/server" 0
# A's CPU per request, measured here, sets the slowed servers' spin.
run A1 "$WORK/probe.json"
CPU_US=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["target"]["cpu_us_per_request"])' "$WORK/probe.json")
SERVERS=(A1 A2)
IFS=',' read -r -a PCTS <<<"$SLOWDOWNS"
for pct in "${PCTS[@]}"; do
  spin=$(python3 -c "print(round($CPU_US * 1000 * $pct / 100))")
  start "B$pct" "$SLOW_SERVER" "$spin"
  echo "B$pct: +$spin ns per request ($pct% of A's $CPU_US us)" >&2
  echo "$pct $spin $CPU_US" >>"$OUT/slowdowns.txt"
done
SERVERS+=("${PCTS[@]/#/B}")

first=$(( $(find "$OUT/runs" -name 'p*-A1-r1.json' | wc -l) + 1 ))
for pair in $(seq "$first" $((first + PAIRS - 1))); do
  for round in $(seq 1 "$ROUNDS"); do
    n=${#SERVERS[@]}
    for i in $(seq 0 $((n - 1))); do
      name=${SERVERS[$(( (i + round - 1) % n ))]}
      run "$name" "$OUT/runs/p$pair-$name-r$round.json"
    done
  done
  echo "pair $pair done" >&2
done

# Judge every pair in OUT (the old ones too: same loadgen, same answer), three ways: all
# rounds unpaired (Welch), all rounds paired in the order they ran, and one round a side.
judge() { # PAIR NEW ROUNDS MODE [--paired] -> verdicts/p<PAIR>-<NEW>-<MODE>.json
  local pair=$1 new=$2 rounds=$3 mode=$4 base=() news=() r
  shift 4
  for r in $(seq 1 "$rounds"); do
    base+=("$OUT/runs/p$pair-A1-r$r.json") news+=("$OUT/runs/p$pair-$new-r$r.json")
  done
  "$LOADGEN" compare "$@" --base "${base[@]}" --new "${news[@]}" --max-regression 0% \
    --json "$OUT/verdicts/p$pair-$new-$mode.json" >/dev/null || [ $? = 3 ]
}
for f in "$OUT"/runs/p*-A1-r1.json; do
  pair=$(basename "$f" | sed -E 's/^p([0-9]+)-.*/\1/')
  for name in "${SERVERS[@]:1}"; do
    judge "$pair" "$name" "$ROUNDS" "${ROUNDS}runs"
    judge "$pair" "$name" "$ROUNDS" "${ROUNDS}runs-paired" --paired
  done
done
# Pairs 2k-1 and 2k joined: twice the runs a side (what longer CI jobs would buy).
pairs=$(find "$OUT/runs" -name 'p*-A1-r1.json' | wc -l)
for k in $(seq 1 $((pairs / 2))); do
  for name in "${SERVERS[@]:1}"; do
    base=() news=()
    for p in $((2 * k - 1)) $((2 * k)); do
      for r in $(seq 1 "$ROUNDS"); do
        base+=("$OUT/runs/p$p-A1-r$r.json") news+=("$OUT/runs/p$p-$name-r$r.json")
      done
    done
    "$LOADGEN" compare --base "${base[@]}" --new "${news[@]}" --max-regression 0% \
      --json "$OUT/verdicts/p$k-$name-$((2 * ROUNDS))runs-joined.json" >/dev/null || [ $? = 3 ]
  done
done
python3 "$ROOT/scripts/lib/calibration_summary.py" "$OUT" \
  "servers --workers 1 on CPU 0, loadgen -t1 -c$CONNS -d$DURATION /plaintext on CPU 1, $ROUNDS rounds a side per pair, interleaved" \
  "scripts/calibrate-gate.sh --rounds $ROUNDS --duration $DURATION --connections $CONNS --slowdowns $SLOWDOWNS"
