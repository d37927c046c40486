#!/usr/bin/env bash
# How well does scripts/perf-gate.sh tell a change from none? Separate builds of this
# source, measured by the gate over and over:
#
#   scripts/calibrate-gate.sh builds                      # A, A' and the slowed builds
#   scripts/calibrate-gate.sh aa --mode exact --runs 20   # A vs A': false alarms, spread
#   scripts/calibrate-gate.sh aa --mode timing --runs 100 --scenarios keepalive
#   scripts/calibrate-gate.sh detect --mode exact --runs 3 --scenarios keepalive
#   scripts/calibrate-gate.sh detect --mode timing --runs 20 --only spin-3,spin-5
#   scripts/calibrate-gate.sh summary                     # rates with Clopper-Pearson intervals
#
# Builds (target/calibrate/bins/NAME/server): A and A2, two release builds of one source in
# separate target directories (code layout may differ: build-to-build variance is part of
# what an A/A' run sees); exact-spin-P and timing-spin-P (P = 1,2,3,5,10), the calibration
# build (`--features calibration-slowdown`, EVLOOP_CALIBRATION=spin:N) with N iterations
# of a fixed loop sized to P% of A's instructions per request (exact) or of A's CPU-us per
# request (timing) in the keepalive scenario; syscall (one extra getppid per request) and
# alloc4k (one extra 4 KiB allocation and copy). Every run is a whole perf-gate.sh run
# (its own servers, its own verdict) against A, kept under DIR/runs/ (default
# bench-results/gate-calibration), so runs accumulate over several sittings.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CAL=$ROOT/target/calibrate BINS=$ROOT/target/calibrate/bins
ACTION=${1:-}; shift || true
MODE=exact RUNS=1 SCENARIOS="" ONLY="" OUT=$ROOT/bench-results/gate-calibration EXTRA=()
while [ $# -gt 0 ]; do
  case $1 in
    --mode) MODE=${2:?}; shift 2 ;;
    --runs) RUNS=${2:?}; shift 2 ;;
    --scenarios) SCENARIOS=${2:?}; shift 2 ;;
    --only) ONLY=${2:?}; shift 2 ;;
    --out) OUT=${2:?}; shift 2 ;;
    --rounds | --duration) EXTRA+=("$1" "${2:?}"); shift 2 ;;
    *) echo "calibrate-gate.sh: unknown option '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done
PCTS=(1 2 3 5 10)

build() { # NAME TARGET_DIR [EVLOOP_CALIBRATION]
  local name=$1 target=$2 spec=${3:-}
  local features=()
  # Already built with this spec (builds resume where they stopped).
  [ -x "$BINS/$name/server" ] && [ "$(cat "$BINS/$name/spec" 2>/dev/null)" = "$spec" ] && return 0
  [ -z "$spec" ] || features=(--features calibration-slowdown)
  echo "building $name${spec:+ (EVLOOP_CALIBRATION=$spec)}" >&2
  EVLOOP_CALIBRATION=$spec cargo build -q --release -p server -p loadgen "${features[@]}" \
    --manifest-path "$ROOT/Cargo.toml" --target-dir "$target" >&2
  mkdir -p "$BINS/$name"
  cp "$target/release/server" "$target/release/loadgen" "$BINS/$name/"
  echo "$spec" >"$BINS/$name/spec"
}

gate() { # OUT_DIR ARGS... -> the gate's exit code, never fails the script
  local code=0
  mkdir -p "$(dirname "$1")"
  "$ROOT/scripts/perf-gate.sh" --out "$@" >/dev/null 2>"$1.log" || code=$?
  echo "$code"
}

# Per-request cost in keepalive of one spin iteration, exact (instructions) and timing (ns),
# and of the spin's entry with no iteration (spin:0, ~14 instructions: without it every
# exact build came out ~0.5% past its target).
probe() {
  build probe "$CAL/slow" spin:20000
  build probe0 "$CAL/slow" spin:0
  local dir=$CAL/probe
  rm -rf "$dir"
  gate "$dir/exact" --base-bin "$BINS/A" --head-bin "$BINS/probe" --scenarios keepalive --mode exact >/dev/null
  gate "$dir/exact0" --base-bin "$BINS/A" --head-bin "$BINS/probe0" --scenarios keepalive --mode exact >/dev/null
  gate "$dir/timing" --base-bin "$BINS/A" --head-bin "$BINS/probe" --scenarios keepalive --mode timing >/dev/null
  python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
rows = {(s, r["metric"]): r for s in ("exact", "exact0", "timing") for r in json.load(open(f"{d}/{s}/summary.json"))["rows"]}
ins, entry, cpu = (rows[("exact", "instructions_per_request")], rows[("exact0", "instructions_per_request")],
                   rows[("timing", "cpu_us_per_request")])
json.dump({"iterations": 20000,
           "a_instructions": ins["base"], "instructions_per_iteration": (ins["head"] - ins["base"]) / 20000,
           "entry_instructions": entry["head"] - entry["base"],
           "a_cpu_us": cpu["base"], "ns_per_iteration": (cpu["head"] - cpu["base"]) * 1000 / 20000},
          open(f"{d}/probe.json", "w"), indent=1)
print(open(f"{d}/probe.json").read())
PY
}

case $ACTION in
  builds)
    build A "$CAL/a"
    build A2 "$CAL/a2"
    probe
    for p in "${PCTS[@]}"; do
      read -r ni nt < <(python3 -c "
import json; p=json.load(open('$CAL/probe/probe.json')); f=$p/100
print(max(0, round((f*p['a_instructions'] - p.get('entry_instructions', 0))/p['instructions_per_iteration'])),
      round(f*p['a_cpu_us']*1000/p['ns_per_iteration']))")
      build "exact-spin-$p" "$CAL/slow" "spin:$ni"
      build "timing-spin-$p" "$CAL/slow" "spin:$nt"
    done
    build syscall "$CAL/slow" syscall
    build alloc4k "$CAL/slow" alloc4k
    ;;
  aa | detect)
    [ -x "$BINS/A2/server" ] || { echo "run '$0 builds' first" >&2; exit 2; }
    if [ "$ACTION" = aa ]; then
      HEADS=(A2)
    else
      HEADS=()
      for p in "${PCTS[@]}"; do HEADS+=("$MODE-spin-$p"); done
      HEADS+=(syscall alloc4k)
      [ -z "$ONLY" ] || IFS=',' read -ra HEADS <<<"$ONLY"
    fi
    mkdir -p "$OUT/runs"
    cp "$CAL/probe/probe.json" "$OUT/probe.json"
    for i in $(seq 1 "$RUNS"); do
      for head in "${HEADS[@]}"; do
        n=$(find "$OUT/runs" -maxdepth 1 -type d -name "$MODE-$head-*" | wc -l)
        dir=$OUT/runs/$MODE-$head-$((n + 1))
        code=$(gate "$dir" --base-bin "$BINS/A" --head-bin "$BINS/$head" --mode "$MODE" \
          ${SCENARIOS:+--scenarios "$SCENARIOS"} "${EXTRA[@]}")
        echo "{\"mode\":\"$MODE\",\"head\":\"$head\",\"spec\":\"$(cat "$BINS/$head/spec")\",\"run\":\"$(basename "$dir")\",\"exit\":$code}" >>"$OUT/runs.jsonl"
        echo "$MODE $head run $i/$RUNS: exit $code" >&2
        # Keep the verdicts, not the raw measurements (callgrind outputs are megabytes).
        find "$dir" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
        rm -f "$dir/samples.jsonl" "$dir/confirm.jsonl" "$dir"/build-*.log
      done
    done
    python3 "$ROOT/scripts/lib/gate_calibration.py" "$OUT"
    ;;
  summary) python3 "$ROOT/scripts/lib/gate_calibration.py" "$OUT" ;;
  *) sed -n '2,21p' "$0"; exit 2 ;;
esac
