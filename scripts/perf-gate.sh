#!/usr/bin/env bash
# The CI performance gate: base and head built from git and measured side by side in this
# job, judged by `loadgen gate`. Nothing is compared with a figure from another run,
# machine or day.
#
#   scripts/perf-gate.sh --base REF [--head REF] [--mode exact|timing|both] [--scenarios LIST]
#                        [--threshold PCT] [--out DIR]
#                        [--rounds 10] [--duration 500ms] [--connections 64]
#                        [--build CMD --server CMD --scenario NAME=ARGS ... [--requests N1,N2]]
#                        [--loadgen PATH]
#                        [--base-bin DIR] [--head-bin DIR] [--head-cargo-args ARGS]
#
# --head defaults to the working tree. Modes (default exact):
#   exact   the server's instructions per request (valgrind --tool=callgrind) and system calls
#           per request (strace -f -c), each the slope between two runs at two request
#           counts on one connection (start-up and shutdown cancel); fails at +1% (the A/A'
#           calibration's spread is far below it). A regression lists the functions whose
#           instructions per request changed most.
#   timing  the target's CPU-us per request and rps: --rounds rounds of --duration, each
#           loading base and head at once (both servers on CPU 0, both loadgens on CPU 1,
#           start order alternated); a paired test on the logs of per-round ratios, Holm
#           across the run's tests; fails at +1.5% when significant and confirmed by an
#           automatic re-run of the flagged scenarios.
# Our scenarios (default all): keepalive, pipelined16, json, static-1KiB, churn (a new
# connection per request), https-keepalive, like-post (the Like API, every request a write).
# Another project's server: --build CMD (run in each checkout; CARGO_TARGET_DIR separates
# the sides' Rust builds), --server CMD (run in the checkout, {port} filled in; it must exit
# on SIGTERM), and one --scenario 'NAME=LOADGEN ARGS' per scenario, the URL with {port}, no
# -c/-t/-n/-d (the gate sets them); --requests: the exact signal's two request counts for
# them (default 2000,12000). See the README's "CI regression checks".
# --base-bin/--head-bin: use a directory's prebuilt `server` instead of building that side
# (calibration); --head-cargo-args: extra cargo arguments for head's build.
#
# Writes DIR (default target/bench-runs/perf-gate-<UTC time>): summary.md (also appended to
# $GITHUB_STEP_SUMMARY), summary.json, bmf.json, samples.jsonl and the raw measurements.
# Exit: 0 no regression, 3 regression, 1 could not measure (a build failed, a request
# failed, a server died), 2 usage error.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"
# shellcheck source=lib/gate_measure.sh
source "$ROOT/scripts/lib/gate_measure.sh"
# shellcheck source=lib/gate_scenarios.sh
source "$ROOT/scripts/lib/gate_scenarios.sh"

usage() { echo "perf-gate.sh: $*" >&2; exit 2; }
BASE_REF="" HEAD_REF="" MODE=exact ONLY="" THRESHOLD="" OUT=""
ROUNDS=10 DURATION=500ms WARMUP=200ms CONNS=64
BUILD_CMD="" SERVER_CMD="" GENERIC=() LOADGEN="" BASE_BIN="" HEAD_BIN="" HEAD_CARGO_ARGS=""
ARGV=("$@")
while [ $# -gt 0 ]; do
  case $1 in
    --base) BASE_REF=${2:?--base needs a git ref}; shift 2 ;;
    --head) HEAD_REF=${2:?--head needs a git ref}; shift 2 ;;
    --mode) MODE=${2:?--mode needs exact, timing or both}; shift 2 ;;
    --scenarios) ONLY=${2:?--scenarios needs a list}; shift 2 ;;
    --threshold) THRESHOLD=${2:?--threshold needs a percentage}; shift 2 ;;
    --out) OUT=${2:?--out needs a directory}; shift 2 ;;
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    --duration) DURATION=${2:?}; shift 2 ;;
    --connections) CONNS=${2:?}; shift 2 ;;
    --build) BUILD_CMD=${2:?}; shift 2 ;;
    --server) SERVER_CMD=${2:?}; shift 2 ;;
    --scenario) GENERIC+=("${2:?--scenario needs NAME=ARGS}"); shift 2 ;;
    --requests) GENERIC_COUNTS=${2:?--requests needs N1,N2}; shift 2 ;;
    --loadgen) LOADGEN=${2:?}; shift 2 ;;
    --base-bin) BASE_BIN=$(cd "${2:?}" && pwd); shift 2 ;;
    --head-bin) HEAD_BIN=$(cd "${2:?}" && pwd); shift 2 ;;
    --head-cargo-args) HEAD_CARGO_ARGS=${2?}; shift 2 ;;
    -h | --help) sed -n '2,39p' "$0"; exit 0 ;;
    *) usage "unknown option '$1' (see --help)" ;;
  esac
done
[ -n "$BASE_REF" ] || [ -n "$BASE_BIN" ] || usage "--base REF is required"
case $MODE in exact | timing | both) ;; *) usage "--mode must be exact, timing or both, not '$MODE'" ;; esac
[[ $ROUNDS =~ ^[0-9]+$ ]] && [ "$ROUNDS" -ge 3 ] || usage "--rounds must be a whole number of at least 3"
[[ $CONNS =~ ^[1-9][0-9]*$ ]] || usage "--connections must be a whole number of at least 1, not '$CONNS'"
[[ $GENERIC_COUNTS =~ ^[0-9]+,[0-9]+$ ]] && [ "${GENERIC_COUNTS%,*}" != "${GENERIC_COUNTS#*,}" ] ||
  usage "--requests must be two different request counts N1,N2, not '$GENERIC_COUNTS'"
if [ -n "$SERVER_CMD" ] || [ ${#GENERIC[@]} -gt 0 ]; then
  [ -n "$SERVER_CMD" ] && [ ${#GENERIC[@]} -gt 0 ] || usage "--server and --scenario go together"
  [[ $SERVER_CMD == *"{port}"* ]] || usage "--server: the command must contain {port}"
  [ -n "$BUILD_CMD" ] || usage "--server needs --build (use --build true for nothing to build)"
fi

WORK=$(mktemp -d)
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  [ -d "$WORK/base" ] && git -C "$REPO" worktree remove --force "$WORK/base" 2>/dev/null || true
  [ -d "$WORK/head" ] && git -C "$REPO" worktree remove --force "$WORK/head" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
REPO=$(git rev-parse --show-toplevel 2>/dev/null) || REPO=$ROOT
OUT=${OUT:-$ROOT/target/bench-runs/perf-gate-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -rf "$OUT/exact" "$OUT/timing" "$OUT/confirm" "$OUT/samples.jsonl" "$OUT/confirm.jsonl"

# --- tools ------------------------------------------------------------------------------
if [ "$MODE" != timing ] && ! { command -v valgrind && command -v strace && command -v callgrind_annotate; } >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "perf-gate: apt-get install valgrind strace" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind strace; } >/dev/null ||
      gate_fail "installing valgrind and strace failed"
  else
    gate_fail "exact mode needs valgrind and strace (apt-get install -y valgrind strace)"
  fi
fi

# --- checkouts and builds ---------------------------------------------------------------
describe() { git -C "$REPO" rev-parse --short "$1^{commit}" 2>/dev/null; }
checkout() { # SIDE REF -> $WORK/SIDE
  git -C "$REPO" rev-parse --verify -q "$2^{commit}" >/dev/null || gate_fail "$1: '$2' is not a commit in $REPO"
  git -C "$REPO" worktree add --detach "$WORK/$1" "$2" >/dev/null 2>&1 || gate_fail "$1: git worktree add $2 failed"
}
# A side's checkout; the working tree for head without --head, and for a prebuilt side.
side_dir() { if [ -d "$WORK/$1" ]; then echo "$WORK/$1"; else echo "$REPO"; fi; }
declare -A BIN_DIR
side_bin() { echo "${BIN_DIR[$1]}"; }
# Ours: a release build per side in its own target directory; base's starts as a copy of
# head's (the dependencies are the same; cargo rebuilds what differs).
build_ours() { # SIDE TARGET_DIR [cargo args]
  local side=$1 target=$2; shift 2
  if [ ! -d "$target/release" ] && [ -d "$REPO/target/release" ] && [ "$target" != "$REPO/target" ]; then
    mkdir -p "$target" && cp -a "$REPO/target/release" "$target/"
  fi
  echo "perf-gate: building $side ($(side_dir "$side"))" >&2
  # shellcheck disable=SC2068
  (cd "$(side_dir "$side")" && CARGO_TARGET_DIR=$target cargo build --release -p server -p loadgen $@) \
    >"$OUT/build-$side.log" 2>&1 || gate_fail "$side failed to build (see $OUT/build-$side.log: $(tail -n 3 "$OUT/build-$side.log" | tr '\n' ' '))"
  BIN_DIR[$side]=$target/release
}
build_generic() { # SIDE
  echo "perf-gate: building $1 ($(side_dir "$1")): $BUILD_CMD" >&2
  (cd "$(side_dir "$1")" && CARGO_TARGET_DIR=$([ "$(side_dir "$1")" = "$REPO" ] && echo "${CARGO_TARGET_DIR:-$REPO/target}" || echo "$WORK/$1-target") \
    bash -c "$BUILD_CMD") >"$OUT/build-$1.log" 2>&1 ||
    gate_fail "$1 failed to build: $BUILD_CMD (see $OUT/build-$1.log: $(tail -n 3 "$OUT/build-$1.log" | tr '\n' ' '))"
}

BASE_LABEL=${BASE_REF:-$BASE_BIN} HEAD_LABEL=${HEAD_REF:-working tree}
[ -z "$BASE_REF" ] || BASE_LABEL="$BASE_REF ($(describe "$BASE_REF"))"
[ -z "$HEAD_REF" ] || HEAD_LABEL="$HEAD_REF ($(describe "$HEAD_REF"))"
[ -z "$HEAD_BIN" ] || HEAD_LABEL=$HEAD_BIN
[ -n "$BASE_BIN" ] || checkout base "$BASE_REF"
[ -z "$HEAD_REF" ] || [ -n "$HEAD_BIN" ] || checkout head "$HEAD_REF"
if [ -z "$SERVER_CMD" ]; then
  HEAD_TARGET=$REPO/target
  [ -z "$HEAD_REF" ] || HEAD_TARGET=$REPO/target/perf-gate/head
  # shellcheck disable=SC2086
  if [ -n "$HEAD_BIN" ]; then BIN_DIR[head]=$HEAD_BIN; else build_ours head "$HEAD_TARGET" $HEAD_CARGO_ARGS; fi
  if [ -n "$BASE_BIN" ]; then BIN_DIR[base]=$BASE_BIN; else build_ours base "$REPO/target/perf-gate/base"; fi
  LOADGEN=${LOADGEN:-${BIN_DIR[head]}/loadgen}
  [ -x "$LOADGEN" ] || LOADGEN=$ROOT/target/release/loadgen
  our_scenarios
else
  build_generic head
  build_generic base
  if [ -z "$LOADGEN" ]; then
    cargo build --release -p loadgen --manifest-path "$ROOT/Cargo.toml" >"$OUT/build-loadgen.log" 2>&1 ||
      gate_fail "building loadgen failed (see $OUT/build-loadgen.log)"
    LOADGEN=$ROOT/target/release/loadgen
  fi
  for s in "${GENERIC[@]}"; do generic_scenario "$s"; done
fi
[ -x "$LOADGEN" ] || gate_fail "no loadgen at $LOADGEN"
LOADGEN=$(cd "$(dirname "$LOADGEN")" && pwd)/$(basename "$LOADGEN")
SELECTED=("${SCENARIO_NAMES[@]}")
if [ -n "$ONLY" ]; then
  IFS=',' read -ra SELECTED <<<"$ONLY"
  for s in "${SELECTED[@]}"; do
    [ -n "${SCENARIO_KIND[$s]:-}" ] || usage "--scenarios: no scenario '$s' (there are: ${SCENARIO_NAMES[*]})"
  done
fi

# --- measurements -----------------------------------------------------------------------
TARGET_PIN="" GEN_PIN="" RIG="one machine of $(nproc) CPUs"
if [ "$(nproc)" -ge 2 ]; then
  TARGET_PIN="taskset -c 0" GEN_PIN="taskset -c 1" RIG="server pinned to CPU 0, loadgen -t1 to CPU 1"
fi
SAMPLES=$OUT/samples.jsonl
: >"$SAMPLES"
if [ "$MODE" != timing ]; then
  for s in "${SELECTED[@]}"; do
    for side in base head; do
      echo "perf-gate: exact $s $side" >&2
      # shellcheck disable=SC2046
      gate_exact "$SAMPLES" "$OUT/exact" "$side" "$s" $(scenario_counts "$s")
    done
  done
  RIG+="; exact: one connection, counts at two request counts per scenario"
fi
if [ "$MODE" != exact ]; then
  gate_timing "$SAMPLES" "$OUT/timing" "$ROUNDS" "${SELECTED[@]}"
  RIG+="; timing: -c$CONNS a side, $ROUNDS rounds of $DURATION (after $WARMUP warm-up) loading both sides at once"
fi

# --- verdict ----------------------------------------------------------------------------
judge() {
  local code=0
  "$LOADGEN" gate --samples "$SAMPLES" --out "$OUT" --base-label "$BASE_LABEL" --head-label "$HEAD_LABEL" \
    --rig "$RIG. Command: scripts/perf-gate.sh ${ARGV[*]}" ${THRESHOLD:+--threshold "$THRESHOLD"} "$@" >"$OUT/gate.out" || code=$?
  return "$code"
}
code=0
GITHUB_STEP_SUMMARY="" judge || code=$?
if [ "$code" = 3 ] && [ -s "$OUT/candidates.txt" ]; then
  mapfile -t AGAIN <"$OUT/candidates.txt"
  echo "perf-gate: timing flagged ${AGAIN[*]}: confirming with a re-run" >&2
  : >"$OUT/confirm.jsonl"
  gate_timing "$OUT/confirm.jsonl" "$OUT/confirm" "$ROUNDS" "${AGAIN[@]}"
  code=0
  judge --confirm "$OUT/confirm.jsonl" || code=$?
elif [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$OUT/summary.md" >>"$GITHUB_STEP_SUMMARY" 2>/dev/null || true
fi
cat "$OUT/gate.out"
echo "perf-gate: results in $OUT" >&2
case $code in
  0 | 3) exit "$code" ;;
  *) echo "perf-gate: could not judge the measurements (loadgen gate exited $code)" >&2; exit 1 ;;
esac
