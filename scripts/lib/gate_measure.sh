# The performance gate's measurements (scripts/perf-gate.sh): one server run under
# callgrind or strace at a request count (the exact signal), and timed rounds (the timing
# signal). Each appends JSON lines to a samples file that `loadgen gate` judges.
# Needs: WORK, LOADGEN, GEN_PIN/TARGET_PIN (taskset prefixes), and the scenario hooks
# scenario_server_cmd NAME SIDE PORT / scenario_prepare NAME PORT / scenario_args NAME PORT
# (our scenarios in gate_scenarios.sh, or the --server/--scenario ones).
# shellcheck shell=bash

gate_fail() { echo "perf-gate: could not measure: $*" >&2; exit 1; }

# A free loopback port (the kernel picks it).
gate_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# gate_wait_port PORT PID SECONDS: until something accepts on PORT, or fail if PID died.
gate_wait_port() {
  local port=$1 pid=$2 i
  for i in $(seq 1 $(($3 * 20))); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# gate_start SIDE SCENARIO LOG WRAPPER...: start the side's server for SCENARIO on a free
# port (under WRAPPER, e.g. valgrind), pinned; sets GATE_PID and GATE_PORT.
gate_start() {
  local side=$1 scenario=$2 log=$3; shift 3
  GATE_PORT=$(gate_port)
  local cmd wrap=""
  cmd=$(scenario_server_cmd "$scenario" "$side" "$GATE_PORT")
  # The pin and the tool wrap the server itself (bash execs into them): valgrind must see
  # the server's own exec, not a shell's.
  # shellcheck disable=SC2086
  [ $# = 0 ] && [ -z "$TARGET_PIN" ] || wrap=$(printf '%q ' $TARGET_PIN "$@")
  (cd "$(side_dir "$side")" && exec bash -c "exec $wrap$cmd") >"$log" 2>&1 &
  GATE_PID=$!
  gate_wait_port "$GATE_PORT" "$GATE_PID" 120 || gate_fail "$side's server for $scenario did not listen on $GATE_PORT (command: $cmd; log: $log): $(tail -n 3 "$log")"
  scenario_prepare "$scenario" "$GATE_PORT" || gate_fail "$scenario: preparing $side's server failed"
}

# gate_stop LOG: SIGTERM, and wait (a tool writes its counts as the process exits). Under
# strace the server is strace's child, and the signal goes to it: strace itself would
# detach and leave it running.
gate_stop() {
  local target
  target=$(pgrep -P "$GATE_PID" | tr "\n" " " || true)
  # shellcheck disable=SC2086
  kill -TERM ${target:-$GATE_PID} 2>/dev/null || true
  local i
  for i in $(seq 1 600); do
    kill -0 "$GATE_PID" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$GATE_PID" 2>/dev/null; then
    kill -KILL "$GATE_PID" 2>/dev/null || true
    gate_fail "the server did not exit within 30 s of SIGTERM (log: $1)"
  fi
  wait "$GATE_PID" 2>/dev/null || true
}

# gate_load JSON ARGS...: one loadgen run, pinned; fails unless every request was answered
# without error.
gate_load() {
  local json=$1; shift
  # shellcheck disable=SC2086
  $GEN_PIN "$LOADGEN" -t1 --no-progress --json "$json" "$@" >"$json.txt" 2>&1 ||
    gate_fail "loadgen $* exited $? ($(tail -n 2 "$json.txt" | tr '\n' ' '))"
  python3 - "$json" <<'PY' || gate_fail "loadgen $*: $(cat "$json.err" 2>/dev/null)"
import json, sys
r = json.load(open(sys.argv[1]))
bad = r["errors"]["total"] or sum(v for k, v in r.get("status_class", {}).items() if k not in ("2xx",))
if bad:
    open(sys.argv[1] + ".err", "w").write(f"{r['errors']['total']} errors, status classes {r.get('status_class')}")
    sys.exit(1)
PY
}

# gate_exact SAMPLES DIR SIDE SCENARIO N1 N2: instructions (callgrind) and syscalls
# (strace -f -c) per request, each from two runs at N1 and N2 requests on one connection.
# Under callgrind a warm-up connection runs first and the counts are zeroed after it: what
# a server does once, lazily, on its first requests need not be deterministic (aws-lc
# seeds its random generator from CPU jitter, ~200M instructions that vary by ~0.3% from
# run to run), and the slope would carry that noise divided by N2 - N1.
gate_exact() {
  local samples=$1 dir=$2 side=$3 scenario=$4 n tag args
  shift 4
  mkdir -p "$dir"
  for n in "$@"; do
    tag="$scenario-$side-$n"
    gate_start "$side" "$scenario" "$dir/$tag.cg.log" valgrind --tool=callgrind --dump-instr=no \
      --callgrind-out-file="$dir/$tag.cg"
    read -ra args <<<"$(scenario_args "$scenario" "$GATE_PORT")"
    gate_load "$dir/$tag.warmup.json" -c1 -n 100 "${args[@]}"
    callgrind_control --zero "$GATE_PID" >"$dir/$tag.zero.log" 2>&1 ||
      gate_fail "callgrind_control --zero $GATE_PID failed for $tag: $(tail -n 2 "$dir/$tag.zero.log")"
    gate_load "$dir/$tag.cg.json" -c1 -n "$n" "${args[@]}"
    gate_stop "$dir/$tag.cg.log"
    [ -s "$dir/$tag.cg" ] || gate_fail "callgrind wrote no counts for $tag (log: $dir/$tag.cg.log)"
    callgrind_annotate --threshold=100 --auto=no "$dir/$tag.cg" >"$dir/$tag.ann" 2>/dev/null || true
    printf '{"scenario":"%s","side":"%s","signal":"instructions","requests":%s,"file":"%s","annotate":"%s"}\n' \
      "$scenario" "$side" "$n" "exact/$tag.cg" "exact/$tag.ann" >>"$samples"
    gate_start "$side" "$scenario" "$dir/$tag.strace.log" strace -f -c -o "$dir/$tag.strace"
    read -ra args <<<"$(scenario_args "$scenario" "$GATE_PORT")"
    gate_load "$dir/$tag.strace.json" -c1 -n "$n" "${args[@]}"
    gate_stop "$dir/$tag.strace.log"
    [ -s "$dir/$tag.strace" ] || gate_fail "strace wrote no counts for $tag (log: $dir/$tag.strace.log)"
    printf '{"scenario":"%s","side":"%s","signal":"syscalls","requests":%s,"file":"%s"}\n' \
      "$scenario" "$side" "$n" "exact/$tag.strace" >>"$samples"
  done
}

# gate_timing SAMPLES DIR ROUNDS SCENARIO...: both sides' servers started side by side,
# then per round and scenario both sides loaded at the same time (servers on the target
# CPU, loadgens on the generator CPU, base started first in odd rounds, head in even ones),
# the target's CPU per request from --server-pid. Loading both at once is what makes a
# round's head/base ratio steady: whatever state the machine is in that round, both sides
# see it (sequential rounds' ratios varied ~6x more, bench-results/gate-calibration-*).
gate_timing() {
  local samples=$1 dir=$2 rounds=$3 round scenario side args
  shift 3
  mkdir -p "$dir"
  declare -A pid port load
  for scenario in "$@"; do
    for side in base head; do
      gate_start "$side" "$scenario" "$dir/$scenario-$side.log"
      pid[$scenario-$side]=$GATE_PID port[$scenario-$side]=$GATE_PORT
    done
  done
  for round in $(seq 1 "$rounds"); do
    for scenario in "$@"; do
      local order=(base head)
      [ $((round % 2)) = 1 ] || order=(head base)
      for side in "${order[@]}"; do
        read -ra args <<<"$(scenario_args "$scenario" "${port[$scenario-$side]}")"
        gate_load "$dir/$scenario-$side-r$round.json" -c"$CONNS" -d"$DURATION" --warmup "$WARMUP" \
          --server-pid "${pid[$scenario-$side]}" "${args[@]}" &
        load[$side]=$!
      done
      for side in "${order[@]}"; do
        wait "${load[$side]}" || exit 1
        printf '{"scenario":"%s","side":"%s","signal":"timing","round":%s,"report":"%s"}\n' \
          "$scenario" "$side" "$round" "$(basename "$dir")/$scenario-$side-r$round.json" >>"$samples"
      done
    done
    echo "perf-gate: timing round $round/$rounds done" >&2
  done
  for scenario in "$@"; do
    for side in base head; do
      GATE_PID=${pid[$scenario-$side]}
      gate_stop "$dir/$scenario-$side.log"
    done
  done
}
