#!/usr/bin/env bash
# What a load-generator connection costs in memory: loadgen vs wrk against the same target.
#
# Rig: the target pinned to CPU 0 (our server --workers 1 by default, or nginx with one
# worker: --target nginx), each generator -t1 pinned to CPU 1. Per round and connection
# count N (a baseline of 10 first), loadgen -cN then wrk -cN, each for --duration with
# keep-alive traffic on every connection; the generator's RssAnon and VmRSS
# (/proc/PID/status) are sampled every 100 ms from half the run on (all connections are
# open by then) and the largest sample is kept. Bytes per connection at N = (RssAnon at N
# - RssAnon at the baseline) / (N - 10), per tool and round. Rounds interleave loadgen,
# wrk, loadgen, wrk.
#
# Usage: scripts/bench-loadgen-memory.sh [--target server|nginx] [--counts "1000 5000 10000"]
#                                        [--rounds 3] [--duration 4s] [--loadgen PATH] [--out DIR]
# (--loadgen: another build of loadgen to measure, e.g. an older commit's target/release/loadgen.)
# Each side needs N + 1000 descriptors: N is limited by `ulimit -Hn` (20,000 on the project's
# VM, which root cannot raise there, so 100k connections cannot be measured on it).
# Writes DIR/loadgen-memory-<UTC timestamp>.{json,md} (DIR defaults to target/bench-runs/).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
INVOCATION="$0 $*"
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"

TARGET=server COUNTS="1000 5000 10000" ROUNDS=3 DURATION=4s OUT=$ROOT/target/bench-runs
LOADGEN=$ROOT/target/release/loadgen
while [ $# -gt 0 ]; do
  case $1 in
    --target) TARGET=${2:?}; shift 2 ;;
    --counts) COUNTS=${2:?}; shift 2 ;;
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    --duration) DURATION=${2:?}; shift 2 ;;
    --loadgen) LOADGEN=${2:?}; shift 2 ;;
    --out) OUT=${2:?}; shift 2 ;;
    *) echo "bench-loadgen-memory.sh: unknown option '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done
case $TARGET in server | nginx) ;; *) echo "--target is server or nginx" >&2; exit 2 ;; esac
require wrk wrk
[ "$TARGET" = nginx ] && require nginx nginx
require_two_cpus
BASELINE=10
max=$(echo "$COUNTS" | tr ' ' '\n' | sort -n | tail -1)
descriptors_for "$max"
cargo build --release -p server -p loadgen --manifest-path "$ROOT/Cargo.toml" >&2
make_workdir

if [ "$TARGET" = nginx ]; then
  NGINX_WORKER_CONNECTIONS=$need start_nginx 0 "$ROOT/scripts/nginx-plaintext.conf"
  PORT=$NGINX_PORT
else
  start_our_server 0 --workers 1 --max-conns "$need"
  PORT=$SERVER_PORT
fi
URL="http://127.0.0.1:$PORT/plaintext"
SECONDS_RUN=$(python3 -c 'import sys; d=sys.argv[1]; print(float(d[:-2])/1000 if d.endswith("ms") else float(d.rstrip("s")))' "$DURATION")

# measure TOOL N ROUND: run the tool, sample its memory, one JSON line into runs.jsonl
measure() {
  local tool=$1 n=$2 round=$3 pid
  case $tool in
    loadgen) taskset -c 1 "$LOADGEN" -t1 -c"$n" -d"$DURATION" --no-progress \
      --json "$WORK/lg.json" "$URL" >"$WORK/out.txt" 2>&1 & ;;
    wrk) taskset -c 1 wrk -t1 -c"$n" -d"$DURATION" "$URL" >"$WORK/out.txt" 2>&1 & ;;
  esac
  pid=$!
  python3 - "$pid" "$SECONDS_RUN" >"$WORK/mem.json" <<'PY'
import json, sys, time
pid, run_s = int(sys.argv[1]), float(sys.argv[2])
def status():
    fields = {}
    for line in open(f"/proc/{pid}/status"):
        key, _, value = line.partition(":")
        if key in ("RssAnon", "VmRSS"):
            fields[key] = int(value.split()[0])
    return fields
best = {"RssAnon": 0, "VmRSS": 0}
time.sleep(run_s / 2)
end = time.time() + run_s * 0.4  # stop before the end-of-run report is built
while time.time() < end:
    try:
        s = status()
    except OSError:
        break
    best = {k: max(best[k], s.get(k, 0)) for k in best}
    time.sleep(0.1)
print(json.dumps({"rss_anon_kb": best["RssAnon"], "vm_rss_kb": best["VmRSS"]}))
PY
  wait "$pid" || { echo "$tool -c$n failed:" >&2; cat "$WORK/out.txt" >&2; exit 1; }
  python3 - "$tool" "$n" "$round" "$WORK/mem.json" "$WORK/out.txt" "$WORK/lg.json" <<'PY' | tee -a "$WORK/runs.jsonl" >&2
import json, re, sys
tool, n, round_, mem, out, lg = sys.argv[1:]
run = {"tool": tool, "connections": int(n), "round": int(round_), **json.load(open(mem))}
text = open(out).read()
if tool == "loadgen":
    r = json.load(open(lg))
    run["rps"], run["errors"], run["opened"] = r["rps"], r["errors"]["total"], r["connections_opened"]
else:
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    run["rps"] = float(m.group(1)) if m else 0.0
    run["errors"] = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
print(json.dumps(run))
PY
}

echo "target: $TARGET ($URL); generators -t1 on CPU 1: $LOADGEN, $(command -v wrk)" >&2
for round in $(seq 1 "$ROUNDS"); do
  for n in $BASELINE $COUNTS; do
    measure loadgen "$n" "$round"
    measure wrk "$n" "$round"
  done
done
mkdir -p "$OUT"
python3 "$ROOT/scripts/lib/loadgen_memory_summary.py" "$WORK/runs.jsonl" \
  "$OUT/loadgen-memory-$(date -u +%Y%m%dT%H%M%SZ)" "$TARGET" "$DURATION" "$BASELINE" "$INVOCATION"
