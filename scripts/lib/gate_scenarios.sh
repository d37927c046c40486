# The performance gate's scenarios (scripts/perf-gate.sh): this project's own, or those a
# caller gives with --server and --scenario. Defines the hooks gate_measure.sh calls:
# scenario_server_cmd NAME SIDE PORT, scenario_prepare NAME PORT, scenario_args NAME PORT,
# scenario_counts NAME (the two request counts of the exact signal).
# shellcheck shell=bash

# name|server kind|exact request counts|loadgen arguments ({port}, {ca}, {targets} filled in).
# Exact mode runs each on one connection (-c1: one request per wake, so counts repeat);
# timing mode on --connections.
OUR_SCENARIOS=(
  "keepalive|plain|2000,12000|http://127.0.0.1:{port}/plaintext"
  "pipelined16|plain|2000,12000|--pipeline 16 http://127.0.0.1:{port}/plaintext"
  "json|plain|2000,12000|http://127.0.0.1:{port}/json"
  "static-1KiB|plain|2000,12000|http://127.0.0.1:{port}/1k.bin"
  "churn|plain|1000,6000|--no-keepalive http://127.0.0.1:{port}/plaintext"
  "https-keepalive|tls|2000,22000|--cacert {ca} https://localhost:{port}/plaintext"
  "like-post|api|1000,6000|--targets {targets}"
)
# Request counts of a caller's scenarios (--requests).
GENERIC_COUNTS=2000,12000

declare -A SCENARIO_KIND SCENARIO_COUNTS SCENARIO_ARGS
SCENARIO_NAMES=()

# our_scenarios: load the table above and make the files it needs (document root, TLS
# certificate, the Like API's key).
our_scenarios() {
  local line name kind counts args
  for line in "${OUR_SCENARIOS[@]}"; do
    IFS='|' read -r name kind counts args <<<"$line"
    SCENARIO_NAMES+=("$name") SCENARIO_KIND[$name]=$kind SCENARIO_COUNTS[$name]=$counts SCENARIO_ARGS[$name]=$args
  done
  make_docs "$WORK/docs"
  make_tls_files "$WORK/tls"
  head -c 32 /dev/urandom | base64 >"$WORK/secret"
}

# generic_scenario 'NAME=ARGS': one of a caller's scenarios.
generic_scenario() {
  local name=${1%%=*} args=${1#*=}
  [ "$name" != "$1" ] && [ -n "$name" ] && [ -n "$args" ] || {
    echo "perf-gate.sh: --scenario expects NAME=LOADGEN ARGS, got '$1'" >&2
    exit 2
  }
  case " $args " in
    *" -c"* | *" -t"* | *" -n"* | *" -d"* | *" --connections"* | *" --requests"* | *" --duration"*)
      echo "perf-gate.sh: --scenario $name: leave -c, -t, -n and -d to the gate (it sets them per mode)" >&2
      exit 2 ;;
  esac
  SCENARIO_NAMES+=("$name") SCENARIO_KIND[$name]=generic SCENARIO_COUNTS[$name]=$GENERIC_COUNTS SCENARIO_ARGS[$name]=$args
}

scenario_counts() { tr ',' ' ' <<<"${SCENARIO_COUNTS[$1]}"; }

scenario_server_cmd() {
  local name=$1 side=$2 port=$3
  if [ "${SCENARIO_KIND[$name]}" = generic ]; then
    echo "${SERVER_CMD//\{port\}/$port}"
    return
  fi
  local cmd
  cmd="$(printf '%q' "$(side_bin "$side")/server") --listen 127.0.0.1:$port --workers 1 --root $(printf '%q' "$WORK/docs")"
  case ${SCENARIO_KIND[$name]} in
    tls) cmd+=" --tls-cert $(printf '%q' "$WORK/tls/cert.pem") --tls-key $(printf '%q' "$WORK/tls/key.pem")" ;;
    api)
      rm -rf "$WORK/data-$side-$port"
      cmd+=" --auth-secret-file $(printf '%q' "$WORK/secret") --data-dir $(printf '%q' "$WORK/data-$side-$port")" ;;
  esac
  echo "$cmd"
}

# The Like API scenario likes and unlikes one post as one user, so every request is a write.
scenario_prepare() {
  local name=$1 port=$2
  [ "${SCENARIO_KIND[$name]}" = api ] || return 0
  local token
  token=$("$(side_bin head)/server" token --user 1 --auth-secret-file "$WORK/secret")
  printf 'POST http://127.0.0.1:%s/api/posts/1/like name=like\nAuthorization: Bearer %s\n\nDELETE http://127.0.0.1:%s/api/posts/1/like name=unlike\nAuthorization: Bearer %s\n\n' \
    "$port" "$token" "$port" "$token" >"$WORK/likes-$port.txt"
  "$LOADGEN" -t1 -c1 -n1 --no-progress -m POST -H "Authorization: Bearer $token" --body '{"title":"gate"}' \
    "http://127.0.0.1:$port/api/posts" >"$WORK/likes-$port.post" 2>&1 &&
    grep -q '201: 1' "$WORK/likes-$port.post"
}

scenario_args() {
  local args=${SCENARIO_ARGS[$1]}
  args=${args//\{port\}/$2}
  args=${args//\{ca\}/$WORK/tls/ca.pem}
  echo "${args//\{targets\}/$WORK/likes-$2.txt}"
}
