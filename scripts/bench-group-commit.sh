#!/usr/bin/env bash
# Like API benchmark: likes per second with group commit vs one transaction per like, and
# the CPU cost of GET /api/posts/{id} next to GET /json.
#
# Rig: server --workers 1 pinned to CPU 0 (fresh database per run), wrk -t1 pinned to CPU 1,
# rounds interleaved A B A B. Every like request changes a row: a Lua script walks
# (user, post) pairs, liking on even passes and unliking on odd ones, so no request is a
# no-op and every one needs a commit.
#
# Usage: scripts/bench-group-commit.sh [--rounds N] [--duration 5s] [--connections 64]
# Writes bench-results/likes-<UTC timestamp>.{json,md}.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"

ROUNDS=3 DURATION=5s CONNS=64 USERS=200 POSTS=50
parse_bench_options "$@"
require wrk wrk
require curl curl
require_two_cpus

make_workdir

cargo build --release -p server --manifest-path "$ROOT/Cargo.toml" >&2
BIN=$ROOT/target/release/server
head -c 32 /dev/urandom | base64 >"$WORK/secret"


# Tokens for USERS users, as a Lua table.
{
  echo "tokens = {"
  for u in $(seq 1 "$USERS"); do
    echo "  \"$("$BIN" token --user "$u" --auth-secret-file "$WORK/secret")\","
  done
  echo "}"
  cat <<LUA
users, posts, i = $USERS, $POSTS, 0
request = function()
  local pair = i % (users * posts)
  local pass = math.floor(i / (users * posts))
  local user, post = pair % users, math.floor(pair / users) + 1
  i = i + 1
  local method = (pass % 2 == 0) and "POST" or "DELETE"
  return wrk.format(method, "/api/posts/" .. post .. "/like", { ["Authorization"] = "Bearer " .. tokens[user + 1] })
end
LUA
} >"$WORK/likes.lua"

# start_api MODE-FLAGS...: a fresh server and database with POSTS posts.
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
}
stop_api() {
  if [ -n "${SERVER_PID:-}" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}

for round in $(seq 1 "$ROUNDS"); do
  start_api
  wrk_run group-commit likes "$SERVER_PID" -- -t1 -c"$CONNS" -d"$DURATION" -s "$WORK/likes.lua" "http://127.0.0.1:$SERVER_PORT/"
  wrk_run group-commit get-post "$SERVER_PID" -- -t1 -c"$CONNS" -d"$DURATION" "http://127.0.0.1:$SERVER_PORT/api/posts/7"
  wrk_run group-commit json "$SERVER_PID" -- -t1 -c"$CONNS" -d"$DURATION" "http://127.0.0.1:$SERVER_PORT/json"
  start_api --no-group-commit
  wrk_run per-request likes "$SERVER_PID" -- -t1 -c"$CONNS" -d"$DURATION" -s "$WORK/likes.lua" "http://127.0.0.1:$SERVER_PORT/"
  echo "round $round/$ROUNDS done" >&2
done
stop_api

mkdir -p "$ROOT/bench-results"
OUT="$ROOT/bench-results/likes-$(date -u +%Y%m%dT%H%M%SZ)"
python3 - "$WORK/runs.jsonl" "$OUT" "$ROUNDS" "$DURATION" "$CONNS" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
out, rounds, duration, conns = sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
pick = lambda t, s: [r for r in runs if r["target"] == t and r["scenario"] == s]
med = statistics.median
group, single = pick("group-commit", "likes"), pick("per-request", "likes")
getp, js = pick("group-commit", "get-post"), pick("group-commit", "json")
ratio = [a["rps"] / b["rps"] for a, b in zip(group, single)]
cpu = [a["cpu_us_per_req"] / b["cpu_us_per_req"] for a, b in zip(getp, js)]
summary = {
    "command": f"scripts/bench-group-commit.sh --rounds {rounds} --duration {duration} --connections {conns}",
    "rig": f"server --workers 1 pinned to CPU 0, fresh SQLite database per run (WAL, synchronous=FULL); wrk -t1 -c{conns} -d{duration} pinned to CPU 1; {rounds} rounds interleaved",
    "likes_per_s_group_commit": med(r["rps"] for r in group),
    "likes_per_s_per_request": med(r["rps"] for r in single),
    "group_over_per_request": {"median": med(ratio), "min": min(ratio), "max": max(ratio)},
    "get_post_cpu_us_per_req": med(r["cpu_us_per_req"] for r in getp),
    "json_cpu_us_per_req": med(r["cpu_us_per_req"] for r in js),
    "get_post_over_json_cpu": {"median": med(cpu), "min": min(cpu), "max": max(cpu)},
    "errors": sum(r["errors"] + r["non2xx"] for r in runs),
    "runs": runs,
}
json.dump(summary, open(out + ".json", "w"), indent=2)
g, c = summary["group_over_per_request"], summary["get_post_over_json_cpu"]
md = f"""# Like API: group commit and read cost

Rig: {summary['rig']}.

Command: `{summary['command']}`

| measure | value |
|---|---|
| likes/s, group commit (median) | {summary['likes_per_s_group_commit']:.0f} |
| likes/s, one transaction per like (median) | {summary['likes_per_s_per_request']:.0f} |
| group / per-request | **{g['median']:.1f}x** ({g['min']:.1f}-{g['max']:.1f}) |
| GET /api/posts/{{id}} CPU-us/req | {summary['get_post_cpu_us_per_req']:.2f} |
| GET /json CPU-us/req | {summary['json_cpu_us_per_req']:.2f} |
| GET post / GET json CPU | **{c['median']:.2f}x** ({c['min']:.2f}-{c['max']:.2f}) |
| errors + non-2xx over all runs | {summary['errors']} |

Every like request changes a row (like on even passes over the (user, post) pairs, unlike on
odd ones), so each needs a commit; with `synchronous=FULL` each commit fsyncs the WAL.
"""
open(out + ".md", "w").write(md)
print(md)
print(f"written: {out}.json {out}.md")
PY
