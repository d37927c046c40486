#!/usr/bin/env bash
# Load generator benchmark: loadgen vs wrk against one fast target.
#
# Rig: the target pinned to CPU 0 (nginx with 1 worker by default, or our server with
# --workers 1, or any command + URL), each generator pinned to CPU 1 with -t1 -c100.
# Rounds interleave A B A B: loadgen, wrk, loadgen --pipeline 16, wrk with a 16-request
# Lua pipeline. Per run: rps, generator CPU-us per request (user+sys of the generator
# process from getrusage of the child, for both tools; loadgen's own report figure is
# recorded too) and the target's CPU-us per request (/proc/PID/stat).
#
# --tls: the target serves HTTPS (one ECDSA P-256 certificate; nginx with TLSv1.2 TLSv1.3 and
# session tickets), and the rounds are loadgen vs wrk (OpenSSL) at keep-alive, then
# loadgen --no-keepalive vs h2load --h1 with `Connection: close` (both reconnect after every
# response and resume sessions): connection churn, where rps = connections/s.
#
# Usage:
#   scripts/bench-loadgen.sh [--target nginx|server] [--tls] [--rounds N] [--duration 10s]
#                            [--connections N] [--loadgen PATH] [--out DIR]
#   scripts/bench-loadgen.sh --target-cmd 'CMD' --url URL [...]   # start CMD, load URL
#   scripts/bench-loadgen.sh --url URL [...]                      # target already running
# Writes DIR/loadgen-vs-wrk-<UTC timestamp>.{json,md} (DIR defaults to target/bench-runs/; --out bench-results to keep it).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
INVOCATION="$0 $*"
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"

TARGET=nginx TARGET_CMD="" URL="" ROUNDS=2 DURATION=10s CONNS=100 TLS=0
LOADGEN=${LOADGEN:-$ROOT/target/release/loadgen}
OUT=$ROOT/target/bench-runs
usage() {
  echo "usage: $0 [--target nginx|server | --target-cmd CMD --url URL | --url URL]" \
    "[--rounds N] [--duration D] [--connections N] [--loadgen PATH] [--out DIR]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  if [ "$1" = --tls ]; then TLS=1; shift; continue; fi
  [ $# -ge 2 ] || usage
  case $1 in
    --target) TARGET=$2 ;;
    --target-cmd) TARGET=cmd TARGET_CMD=$2 ;;
    --url) URL=$2 ;;
    --rounds) ROUNDS=$2 ;;
    --duration) DURATION=$2 ;;
    --connections) CONNS=$2 ;;
    --loadgen) LOADGEN=$2 ;;
    --out) OUT=$2 ;;
    *) usage ;;
  esac
  shift 2
done
[ -n "$URL" ] && [ "$TARGET" = nginx ] && TARGET=external
case $TARGET in nginx | server | cmd | external) ;; *) usage ;; esac
[ "$TARGET" = cmd ] && [ -z "$URL" ] && { echo "--target-cmd needs --url" >&2; exit 2; }
require wrk wrk
require python3 python3
if [ "$TLS" = 1 ]; then
  require h2load nghttp2-client
  case $TARGET in nginx | server) ;; *) echo "--tls works with --target nginx or server" >&2; exit 2 ;; esac
fi
[ "$(nproc)" -ge 2 ] || { echo "needs 2 CPUs (target on CPU 0, generators on CPU 1)" >&2; exit 2; }
if [ ! -x "$LOADGEN" ]; then
  cargo build --release -p loadgen --manifest-path "$ROOT/Cargo.toml" >&2
fi

make_workdir
TARGET_PIDS="" SCHEME=http HOST=127.0.0.1 LOADGEN_TLS="" SERVER_TLS=()
[ "$TLS" = 1 ] && use_tls "$WORK/tls"

start_target() {
  case $TARGET in
    nginx)
      require nginx nginx
      start_nginx 0 "$ROOT/scripts/nginx-plaintext.conf"
      TARGET_PIDS=$NGINX_PIDS
      URL="$SCHEME://$HOST:$NGINX_PORT/plaintext"
      ;;
    server)
      cargo build --release -p server --manifest-path "$ROOT/Cargo.toml" >&2
      start_our_server 0 --workers 1 "${SERVER_TLS[@]}"
      TARGET_PIDS=$SERVER_PID
      URL="$SCHEME://$HOST:$SERVER_PORT/plaintext"
      ;;
    cmd)
      taskset -c 0 bash -c "exec $TARGET_CMD" >"$WORK/target.out" 2>&1 &
      CMD_PID=$!
      TARGET_PIDS=$CMD_PID
      local hostport=${URL#http://}
      hostport=${hostport%%/*}
      wait_port "${hostport##*:}"
      ;;
    external) ;;
  esac
}

# User+sys clock ticks of the target processes (0 for an external target).
target_ticks() {
  # shellcheck disable=SC2086
  if [ -n "$TARGET_PIDS" ]; then cpu_ticks $TARGET_PIDS; else echo 0; fi
}

# Run a generator pinned to CPU 1; print "user_s sys_s" of the child from getrusage.
measure() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys
out = open(sys.argv[1], "w")
subprocess.run(["taskset", "-c", "1"] + sys.argv[2:], stdout=out, stderr=subprocess.STDOUT, check=False)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(r.ru_utime, r.ru_stime)
PY
}

# run ROUND TOOL SCENARIO -> appends one JSON line to $WORK/runs.jsonl
run() {
  local round=$1 tool=$2 scenario=$3 cmd before after cpu log=$WORK/run.log
  # shellcheck disable=SC2206
  local lg=("$LOADGEN" -t1 -c"$CONNS" -d"$DURATION" --no-progress --json "$WORK/lg.json" $LOADGEN_TLS)
  case $tool/$scenario in
    loadgen/plain) cmd=("${lg[@]}" "$URL") ;;
    loadgen/churn) cmd=("${lg[@]}" --no-keepalive "$URL") ;;
    # h2load's -D does not end once it reconnects: it makes as many requests as loadgen did.
    h2load/churn) cmd=(h2load --h1 -t1 -c"$CONNS" -n"$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readlines()[-1])["requests"])' "$WORK/runs.jsonl")" -H "Connection: close" "$URL") ;;
    loadgen/pipeline16) cmd=("$LOADGEN" -t1 -c"$CONNS" -d"$DURATION" --pipeline 16 --no-progress --json "$WORK/lg.json" "$URL") ;;
    wrk/plain) cmd=(wrk -t1 -c"$CONNS" -d"$DURATION" "$URL") ;;
    wrk/pipeline16) cmd=(wrk -t1 -c"$CONNS" -d"$DURATION" -s "$ROOT/scripts/pipeline16.lua" "$URL") ;;
  esac
  rm -f "$WORK/lg.json"
  before=$(target_ticks)
  cpu=$(measure "$log" "${cmd[@]}")
  after=$(target_ticks)
  python3 - "$round" "$tool" "$scenario" "$cpu" "$before" "$after" "$(getconf CLK_TCK)" \
    "$log" "$WORK/lg.json" "${cmd[*]}" <<'PY' >>"$WORK/runs.jsonl"
import json, os, re, sys
round_, tool, scenario, cpu, before, after, hz, log, lg_json, command = sys.argv[1:]
user, system = map(float, cpu.split())
text = open(log).read()
run = {"round": int(round_), "tool": tool, "scenario": scenario, "command": command}
if tool == "wrk":
    m = re.search(r"(\d+) requests in", text)
    run["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    run["rps"] = float(m.group(1)) if m else 0.0
    run["errors"] = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
elif tool == "h2load":
    m = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", text)
    run["requests"] = int(m.group(1)) if m else 0
    run["errors"] = sum(int(x) for x in m.groups()[1:]) if m else 0
    m = re.search(r"finished in ([\d.]+)s, ([\d.]+) req/s", text)
    run["rps"] = float(m.group(2)) if m else 0.0
else:
    if not os.path.exists(lg_json):
        sys.exit("loadgen failed:\n" + text)
    report = json.load(open(lg_json))
    run["requests"] = report["requests"]
    run["rps"] = report["rps"]
    run["errors"] = report["errors"]["total"]
    run["own_report_cpu_us_per_req"] = report["generator"]["cpu_us_per_request"]
    run["warnings"] = report["warnings"]
reqs = max(run["requests"], 1)
run["generator_cpu_us_per_req"] = (user + system) * 1e6 / reqs
run["target_cpu_us_per_req"] = (int(after) - int(before)) * 1e6 / int(hz) / reqs
print(json.dumps(run))
PY
  tail -n1 "$WORK/runs.jsonl" >&2
}

start_target
echo "target: $TARGET ($URL), generators: $LOADGEN and $(command -v wrk)" >&2
for round in $(seq "$ROUNDS"); do
  run "$round" loadgen plain
  run "$round" wrk plain
  if [ "$TLS" = 1 ]; then
    run "$round" loadgen churn
    run "$round" h2load churn
  else
    run "$round" loadgen pipeline16
    run "$round" wrk pipeline16
  fi
done

mkdir -p "$OUT"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
NAME=loadgen-vs-wrk$([ "$TLS" = 1 ] && echo -tls || true)
python3 "$ROOT/scripts/lib/loadgen_vs_wrk_summary.py" "$WORK/runs.jsonl" "$OUT/$NAME-$STAMP" "$TARGET" "$URL" "$DURATION" \
  "$CONNS" "$ROUNDS" "$INVOCATION"
