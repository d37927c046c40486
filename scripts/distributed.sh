#!/usr/bin/env bash
# A distributed loadgen run with pdsh: one shard per host, all started with one --start-at,
# the reports brought back over pdsh's own output and merged exactly with `loadgen merge`.
#
#   scripts/distributed.sh -w host1,host2,host3 [options] -- -c 300 -R 90000 -d 60s http://target:8080/
#   scripts/distributed.sh --hosts hosts.txt --assert 'p99<5ms' -- -c 300 -d 60s http://target:8080/
#
# Each host runs `loadgen --shard I/N --start-at T --json - ARGS`: pdsh's exec module numbers
# the hosts (%n, from 0) and reaches each through --reach, a command prefix that takes one
# shell command string (the default, ssh, does; %h is the host). Each shard's JSON comes back
# on its pdsh output lines ("host: ..."), so nothing has to be copied off the hosts; its text
# report comes back on stderr. A shard that fails (exit 1: its target unreachable) sends no
# JSON, and the merge then says which shard is missing.
#
# Options:
#   -w HOSTS           the hosts, as pdsh takes them: host1,host2 or load[1-8]
#   --hosts FILE       or one host per line, # comments
#   --reach PREFIX     how to run a command string on %h [ssh -o BatchMode=yes %h]
#                      (e.g. 'ip netns exec %h sh -c' for network namespaces, 'sh -c' locally)
#   --start-in S       seconds from now to the common start [10]; covers starting every shard
#   --loadgen PATH     loadgen on the hosts [loadgen]; the local merge uses target/release/loadgen
#                      if built, else loadgen on PATH
#   --out DIR          where the reports go [target/distributed-runs/<UTC time>]
#   --assert EXPR      checked on the merged report (repeatable); exit 3 if one fails
# Exit codes: those of `loadgen merge` (0 merged, 1 a shard missing, 2 usage, 3 an --assert
# failed); 2 also when pdsh is missing (apt-get install -y pdsh) or the options are wrong.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

hosts="" reach="ssh -o BatchMode=yes %h" start_in=10 remote_loadgen=loadgen out="" asserts=()
usage() { echo "usage: $0 -w HOSTS|--hosts FILE [--reach PREFIX] [--start-in S] [--loadgen PATH] [--out DIR] [--assert EXPR]... -- LOADGEN ARGS..." >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    -w) hosts="$2"; shift 2 ;;
    --hosts) hosts=$(grep -v '^[[:space:]]*#' "$2" | tr -s '[:space:]' ',' | sed 's/^,//; s/,$//'); shift 2 ;;
    --reach) reach="$2"; shift 2 ;;
    --start-in) start_in="$2"; shift 2 ;;
    --loadgen) remote_loadgen="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --assert) asserts+=(--assert "$2"); shift 2 ;;
    --) shift; break ;;
    *) echo "error: unknown option $1" >&2; usage ;;
  esac
done
[ -n "$hosts" ] && [ $# -gt 0 ] || usage
[[ "$start_in" =~ ^[0-9]+$ ]] || { echo "error: --start-in: whole seconds, got '$start_in'" >&2; exit 2; }
command -v pdsh >/dev/null || { echo "error: pdsh is not installed (apt-get install -y pdsh)" >&2; exit 2; }
local_loadgen="$ROOT/target/release/loadgen"
[ -x "$local_loadgen" ] || local_loadgen=$(command -v loadgen) || { echo "error: no loadgen to merge with (cargo build --release)" >&2; exit 2; }

# The hosts as pdsh sees them (ranges like load[1-8] expanded), one per line.
mapfile -t host_list < <(pdsh -R exec -w "$hosts" echo %h | cut -d: -f1 | sort -u)
n=${#host_list[@]}
[ "$n" -gt 0 ] || { echo "error: no hosts in '$hosts'" >&2; exit 2; }
out=${out:-"$ROOT/target/distributed-runs/$(date -u +%Y%m%dT%H%M%SZ)"}
mkdir -p "$out"
start=$(( $(date +%s) + start_in ))

# The command each host runs, as one shell string; %n and %h are pdsh's (rank from 0, host).
quoted=$(printf '%q ' "$@")
# shellcheck disable=SC2016 # $((...)) is for the remote shell
command_string="exec $(printf '%q' "$remote_loadgen") --shard \$((%n+1))/$n --start-at $start --no-progress --json - $quoted"
echo "$n shards, start at $(date -u -d "@$start" +%Y-%m-%dT%H:%M:%SZ) ($start), reports in $out" >&2
# shellcheck disable=SC2086 # the reach prefix is split into words on purpose
pdsh -R exec -f "$n" -w "$hosts" $reach "$command_string" >"$out/pdsh.out" 2>"$out/pdsh.err" || true

# Each host's lines, prefix removed, are its JSON report; a host with none failed.
reports=()
for host in "${host_list[@]}"; do
  file="$out/shard-$host.json"
  awk -v prefix="$host: " 'index($0, prefix) == 1 { print substr($0, length(prefix) + 1) }' "$out/pdsh.out" >"$file"
  if [ -s "$file" ]; then
    reports+=("$file")
  else
    rm -f "$file"
    echo "shard on $host sent no report; its stderr:" >&2
    grep -F -- "$host" "$out/pdsh.err" | tail -5 >&2 || true
  fi
done
[ ${#reports[@]} -gt 0 ] || { echo "error: no shard sent a report (see $out/pdsh.err)" >&2; exit 1; }
set +e
"$local_loadgen" merge "${reports[@]}" --json "$out/merged.json" --svg "$out/merged.svg" "${asserts[@]}" | tee "$out/merged.txt"
code=${PIPESTATUS[0]}
echo "merged report: $out/merged.json" >&2
exit "$code"
