#!/usr/bin/env bash
# CI check of scripts/distributed.sh with pdsh's exec module over local "hosts": three
# network namespaces, each with its own address on a bridge (10.203.0.0/24, made here and
# removed at exit), reached with `ip netns exec`, against our server on the bridge. Where
# namespaces cannot be made (no CAP_NET_ADMIN), the hosts are local processes on loopback,
# and it says so. Checks: the merged response count equals the server's own request count
# exactly, and a host that cannot run its shard is reported as a missing shard (exit 1).
# About 10 s.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
cargo build --release -q -p loadgen -p server
WORK=$(mktemp -d)
NS=(lgci1 lgci2 lgci3)
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  for ns in "${NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  ip link del lgci-br 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

if ip netns add lgci-probe 2>/dev/null && ip netns del lgci-probe; then
  mode="network namespaces"
  ip link add lgci-br type bridge
  ip addr add 10.203.0.1/24 dev lgci-br
  ip link set lgci-br up
  i=0
  for ns in "${NS[@]}"; do
    i=$((i + 1))
    ip netns add "$ns"
    ip link add "$ns-h" type veth peer name "$ns-n"
    ip link set "$ns-n" netns "$ns"
    ip link set "$ns-h" master lgci-br up
    ip -n "$ns" addr add "10.203.0.$((10 + i))/24" dev "$ns-n"
    ip -n "$ns" link set "$ns-n" up
    ip -n "$ns" link set lo up
  done
  addr=10.203.0.1
  hosts=$(IFS=,; echo "${NS[*]}")
  reach="ip netns exec %h sh -c"
else
  mode="local processes (network namespaces cannot be created here)"
  addr=127.0.0.1
  hosts=local1,local2,local3
  # Runs the command string "on" host $1: locally, or fails for a host called lgci-gone.
  printf '#!/bin/sh\n[ "$1" = lgci-gone ] && { echo "no such host: $1" >&2; exit 255; }\nexec sh -c "$2"\n' >"$WORK/reach"
  chmod +x "$WORK/reach"
  reach="$WORK/reach %h"
fi
echo "== distributed.sh over 3 hosts: $mode"

target/release/server --listen "$addr:0" --workers 1 >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 1 500); do [ -s "$WORK/server.out" ] && break; sleep 0.01; done
port=$(sed -E 's|.*:([0-9]+) .*|\1|' "$WORK/server.out")
url="http://$addr:$port/plaintext"
# run NAME HOST-OPTIONS...
run() {
  local name=$1; shift
  scripts/distributed.sh "$@" --reach "$reach" --start-in 2 --loadgen "$ROOT/target/release/loadgen" \
    --out "$WORK/$name" -- -t1 -c6 -n 3000 "$url"
}

printf '# the hosts, one per line\n%s\n' "${hosts//,/$'\n'}" >"$WORK/hosts.txt"
run all --hosts "$WORK/hosts.txt" >"$WORK/all.txt"
merged=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["requests"])' "$WORK/all/merged.json")
[ "$merged" = 3000 ] || { echo "FAIL: merged $merged responses, expected 3000" >&2; exit 1; }
shards=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["shards"]))' "$WORK/all/merged.json")
[ "$shards" = 3 ] || { echo "FAIL: $shards shards merged, expected 3" >&2; exit 1; }
echo "ok: 3 shards merged, 3000 responses"

# A fourth host that does not exist: its shard never runs, so the merge reports it missing.
set +e
run gone -w "$hosts,lgci-gone" >"$WORK/gone.txt" 2>"$WORK/gone.err"
code=$?
set -e
[ "$code" = 1 ] || { echo "FAIL: exit $code with a missing host, expected 1" >&2; cat "$WORK/gone.err" >&2; exit 1; }
grep -q "shard [0-9]/4 missing" "$WORK/gone.err" || { echo "FAIL: no missing shard named" >&2; cat "$WORK/gone.err" >&2; exit 1; }
echo "ok: $(grep -o 'shard [0-9]/4 missing' "$WORK/gone.err")"

# The server's own count: the first run's 3000 and the three shards of the second that ran.
kill -INT "$SERVER_PID"
wait "$SERVER_PID" || true
SERVER_PID=""
served=$(grep -o 'requests [0-9]*' "$WORK/server.err" | head -1 | cut -d' ' -f2)
expected=$((3000 + 3 * 750))
[ "$served" = "$expected" ] || { echo "FAIL: server served $served, expected $expected" >&2; exit 1; }
echo "ok: the server served $served requests, exactly the merged reports' responses"
