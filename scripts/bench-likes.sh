#!/usr/bin/env bash
# The Like API under a realistic mix: USERS users with their own tokens liking, unliking and
# reading posts, driven by loadgen --targets, with the server's CPU per request.
#
# Mints a token per user (`server token`), creates POSTS posts, writes a targets file where
# every user likes one post, later unlikes it, and reads posts in between (so every write
# changes a row), and runs it. Server pinned to CPU 0 and loadgen to CPU 1 with 2+ cores.
#
# Usage: scripts/bench-likes.sh [--users 1000] [--posts 20] [--duration 10s]
#                               [--connections 64] [--rate RPS] [--no-group-commit]
# Writes DIR/likes-mix-<UTC timestamp>.json (loadgen's report) and .md (command, rig and the
# text report) and prints the report; --out DIR (default target/bench-runs, bench-results to
# keep it).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"

USERS=1000 POSTS=20 DURATION=10s CONNS=64 RATE="" SERVER_FLAGS=()
while [ $# -gt 0 ]; do
  case $1 in
    --users) USERS=${2:?}; shift 2 ;;
    --posts) POSTS=${2:?}; shift 2 ;;
    --duration) DURATION=${2:?}; shift 2 ;;
    --connections) CONNS=${2:?}; shift 2 ;;
    --rate) RATE=${2:?}; shift 2 ;;
    --no-group-commit) SERVER_FLAGS+=(--no-group-commit); shift ;;
    --out) OUT_DIR=${2:?}; shift 2 ;;
    *) echo "bench-likes.sh: unknown option '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done
require curl curl
SERVER_CPU=0 GEN_CPU=1
[ "$(nproc)" -ge 2 ] || GEN_CPU=0

make_workdir
cargo build --release -p server -p loadgen --manifest-path "$ROOT/Cargo.toml" >&2
BIN=$ROOT/target/release/server
head -c 32 /dev/urandom | base64 >"$WORK/secret"
start_our_server "$SERVER_CPU" --workers 1 --auth-secret-file "$WORK/secret" --data-dir "$WORK/data" "${SERVER_FLAGS[@]}"
BASE="http://127.0.0.1:$SERVER_PORT"
ADMIN=$("$BIN" token --user 1 --auth-secret-file "$WORK/secret")
for p in $(seq 1 "$POSTS"); do
  curl -sf -X POST -H "Authorization: Bearer $ADMIN" -d "{\"title\":\"post $p\"}" "$BASE/api/posts" >/dev/null
done

echo "minting $USERS tokens, writing the targets file" >&2
TARGETS=$WORK/targets.txt
: >"$TARGETS"
for u in $(seq 1 "$USERS"); do
  echo "$u $("$BIN" token --user "$u" --auth-secret-file "$WORK/secret")"
done >"$WORK/tokens"
# Pass 1: every user likes a post (reads in between); pass 2: every user unlikes it. A like
# and its unlike are USERS requests apart, so they are never in flight together.
for verb in POST DELETE; do
  name=$([ "$verb" = POST ] && echo like || echo unlike)
  while read -r u token; do
    p=$(( (u % POSTS) + 1 ))
    printf '%s %s/api/posts/%d/like name=%s\nAuthorization: Bearer %s\n\n' "$verb" "$BASE" "$p" "$name" "$token"
    if [ $((u % 4)) = 0 ]; then
      printf 'GET %s/api/posts/%d name=read\nAuthorization: Bearer %s\n\n' "$BASE" "$p" "$token"
    fi
  done <"$WORK/tokens"
done >>"$TARGETS"

OUT="$(results_dir)/likes-mix-$(date -u +%Y%m%dT%H%M%SZ).json"
ARGS=(-t1 -c"$CONNS" -d"$DURATION" --no-progress --targets "$TARGETS" --server-pid "$SERVER_PID" --json "$OUT")
[ -n "$RATE" ] && ARGS+=(-R "$RATE")
taskset -c "$GEN_CPU" "$ROOT/target/release/loadgen" "${ARGS[@]}" | tee "${OUT%.json}.txt"
{
  echo "# Like API request mix"
  echo
  echo "Command: \`scripts/bench-likes.sh --users $USERS --posts $POSTS --duration $DURATION --connections $CONNS${RATE:+ --rate $RATE} ${SERVER_FLAGS[*]}\`"
  echo
  echo "Rig: server --workers 1 pinned to CPU $SERVER_CPU (fresh SQLite database, WAL, synchronous=FULL), loadgen -t1 -c$CONNS pinned to CPU $GEN_CPU; every user likes a post, later unlikes it, and a quarter of them read in between."
  echo
  echo '```'
  cat "${OUT%.json}.txt"
  echo '```'
} >"${OUT%.json}.md"
rm -f "${OUT%.json}.txt"
echo "written: $OUT ${OUT%.json}.md" >&2
