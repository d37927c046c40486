# Shared helpers for the bench scripts: free ports, process CPU time, cleanup.
# shellcheck shell=bash

# A free TCP port on loopback (the kernel picks it; tiny race window, fine for benches).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# utime+stime in clock ticks of the given PIDs and all their threads.
cpu_ticks() {
  local total=0 pid f
  for pid in "$@"; do
    f=$(cut -d')' -f2- "/proc/$pid/stat" 2>/dev/null) || continue
    # fields after the comm: state=1 ... utime=12 stime=13
    total=$((total + $(echo "$f" | awk '{print $12 + $13}')))
  done
  echo "$total"
}

# Waits until something accepts on 127.0.0.1:$1 (at most 5 s).
wait_port() {
  local i
  for i in $(seq 1 500); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.01
  done
  echo "nothing listening on port $1 after 5 s" >&2
  return 1
}

# Starts our server pinned to CPU $1 with extra args; sets SERVER_PID and SERVER_PORT.
start_our_server() {
  local cpu=$1; shift
  local out; out=$(mktemp)
  taskset -c "$cpu" "$ROOT/target/release/server" --listen 127.0.0.1:0 "$@" >"$out" 2>>"$WORK/server.err" &
  SERVER_PID=$!
  local i
  for i in $(seq 1 500); do
    if [ -s "$out" ]; then break; fi
    sleep 0.01
  done
  SERVER_PORT=$(sed -E 's|.*127\.0\.0\.1:([0-9]+) .*|\1|' "$out")
  rm -f "$out"
  [ -n "$SERVER_PORT" ] || { echo "server did not start; see $WORK/server.err" >&2; return 1; }
}

# Starts nginx (1 worker) pinned to CPU $1 from config template $2 (scripts/nginx-*.conf,
# with @PORT@, @PREFIX@ and @ROOT@ filled in; @ROOT@ from $3; @WORKER_CONNECTIONS@ from
# NGINX_WORKER_CONNECTIONS, default 10000); sets NGINX_PIDS (master and worker) and NGINX_PORT.
start_nginx() {
  local cpu=$1 template=$2 docroot=${3:-/nonexistent}
  NGINX_PORT=$(free_port)
  mkdir -p "$WORK/nginx/logs"
  sed "s|@PORT@|$NGINX_PORT|g; s|@PREFIX@|$WORK/nginx|g; s|@ROOT@|$docroot|g; s|@WORKERS@|${NGINX_WORKERS:-1}|g; s|@SSL@|${NGINX_SSL:-}|g; s|@TLS@|${NGINX_TLS:-}|g; s|@WORKER_CONNECTIONS@|${NGINX_WORKER_CONNECTIONS:-10000}|g" "$template" >"$WORK/nginx/nginx.conf"
  taskset -c "$cpu" nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/logs/error.log"
  wait_port "$NGINX_PORT"
  NGINX_PIDS="$(cat "$WORK/nginx/nginx.pid") $(pgrep -P "$(cat "$WORK/nginx/nginx.pid")" | tr '\n' ' ')"
}

stop_nginx() {
  if [ -f "$WORK/nginx/nginx.pid" ]; then
    kill -QUIT "$(cat "$WORK/nginx/nginx.pid")" 2>/dev/null || true
    sleep 0.2
  fi
}

# A scratch directory in WORK, removed on exit together with any server or nginx started.
make_workdir() {
  WORK=$(mktemp -d)
  trap cleanup_workdir EXIT
}

cleanup_workdir() {
  [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null || true
  [ -n "${CMD_PID:-}" ] && kill "$CMD_PID" 2>/dev/null || true
  stop_nginx
  rm -rf "$WORK"
}

# Where a run's files go: --out DIR, else target/bench-runs/ (git-ignored), so trying a
# benchmark never touches the tracked results. To keep a run as a project record, give
# --out bench-results and commit what it wrote.
OUT_DIR=""
results_dir() {
  local dir=${OUT_DIR:-$ROOT/target/bench-runs}
  mkdir -p "$dir" && (cd "$dir" && pwd)
}

# Parses the bench scripts' common options into ROUNDS, DURATION, CONNS and OUT_DIR; exits
# 2 on anything else. usage: parse_bench_options "$@"
parse_bench_options() {
  while [ $# -gt 0 ]; do
    case $1 in
      --rounds) ROUNDS=${2:?--rounds needs a value}; shift 2 ;;
      --duration) DURATION=${2:?--duration needs a value}; shift 2 ;;
      --connections) CONNS=${2:?--connections needs a value}; shift 2 ;;
      --out) OUT_DIR=${2:?--out needs a directory}; shift 2 ;;
      *) echo "unknown option $1 (expected --rounds N, --duration D, --connections N, --out DIR)" >&2; exit 2 ;;
    esac
  done
}

# descriptors_for N: raises this shell's descriptor limit to N connections and 1000 more,
# sets need to that number, or exits 2 naming the hard limit.
descriptors_for() {
  need=$(($1 + 1000))
  ulimit -n "$need" 2>/dev/null || {
    echo "$(basename "$0"): $1 connections need $need descriptors; the hard limit is $(ulimit -Hn)" >&2
    exit 2
  }
}

# Both targets on CPU 0 and the generator on CPU 1 need two CPUs.
require_two_cpus() {
  [ "$(nproc)" -ge 2 ] || { echo "needs 2 CPUs (target on CPU 0, generator on CPU 1)" >&2; exit 2; }
}

require() {
  local tool=$1 pkg=$2
  if ! command -v "$tool" >/dev/null; then
    echo "$tool is not installed: run 'apt-get install -y $pkg'" >&2
    exit 2
  fi
}

# One wrk run against TARGET, pinned to CPU 1, appending a JSON line to $WORK/runs.jsonl.
# usage: wrk_run TARGET SCENARIO "PIDS" -- WRK-ARGS...
wrk_run() {
  local target=$1 scenario=$2 pids=$3; shift 4
  local before after
  # shellcheck disable=SC2086
  before=$(cpu_ticks $pids)
  taskset -c 1 wrk "$@" >"$WORK/wrk.out"
  # shellcheck disable=SC2086
  after=$(cpu_ticks $pids)
  python3 "$ROOT/scripts/lib/wrk_run.py" "$target" "$scenario" "$before" "$after" <"$WORK/wrk.out" >>"$WORK/runs.jsonl"
  tail -n1 "$WORK/runs.jsonl" >&2
}

# --- our server vs nginx with loadgen (compare-nginx.sh) ------------------------------

# name|path|connections|extra loadgen args (CONNS is the default connection count).
SCENARIOS=(
  "plaintext|/plaintext|\$CONNS|"
  "json|/json|\$CONNS|"
  "static-1KiB|/1k.bin|\$CONNS|"
  "static-1MiB|/1m.bin|16|"
  "plaintext-pipelined16|/plaintext|\$CONNS|--pipeline 16"
)

# With --tls (compare-nginx.sh): HTTPS keep-alive, full and resumed handshakes (a new
# connection per request), and a large file through TLS.
TLS_SCENARIOS=(
  "tls-plaintext|/plaintext|100|"
  "tls-full-handshake|/plaintext|16|--no-keepalive --no-tls-resume"
  "tls-resumed-handshake|/plaintext|16|--no-keepalive"
  "tls-static-1MiB|/1m.bin|16|"
)

# With --churn (compare-nginx.sh): a new connection per request, plain and (pass --tls too)
# nothing else: target CPU per request is CPU per connection.
CHURN_SCENARIOS=(
  "churn|/plaintext|50|--no-keepalive"
)

# With --capacity SLO (compare-nginx.sh): each server's capacity at the SLO.
CAPACITY_SCENARIOS=(
  "plaintext|/plaintext|\$CONNS|"
  "static-1KiB|/1k.bin|\$CONNS|"
)

# make_tls_files DIR: an ECDSA P-256 CA and a certificate for localhost signed by it
# (DIR/ca.pem, DIR/cert.pem, DIR/key.pem), the same for every target.
make_tls_files() {
  local dir=$1
  require openssl openssl
  mkdir -p "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 -subj /CN=bench-ca \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
    -keyout "$dir/key.pem" -out "$dir/leaf.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$dir/leaf.ext"
  openssl x509 -req -in "$dir/leaf.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 7 -extfile "$dir/leaf.ext" -out "$dir/cert.pem" 2>/dev/null
}

# use_tls DIR: certificate files in DIR, and what each side needs to use them: SERVER_TLS
# (our server's flags), NGINX_SSL/NGINX_TLS (filled into the nginx templates), SCHEME, HOST
# and LOADGEN_TLS (how generators reach either).
use_tls() {
  make_tls_files "$1"
  SERVER_TLS=(--tls-cert "$1/cert.pem" --tls-key "$1/key.pem")
  NGINX_SSL=ssl
  NGINX_TLS="ssl_certificate $1/cert.pem; ssl_certificate_key $1/key.pem; ssl_protocols TLSv1.2 TLSv1.3; ssl_session_tickets on;"
  SCHEME=https HOST=localhost LOADGEN_TLS="--cacert $1/ca.pem"
}

# The scenarios' document root: 1k.bin, 1m.bin and message.json (nginx's /json).
make_docs() {
  mkdir -p "$1"
  head -c 1024 /dev/urandom >"$1/1k.bin"
  head -c 1048576 /dev/urandom >"$1/1m.bin"
  printf '{"message":"Hello, World!"}' >"$1/message.json"
}

# Builds, makes the document root, starts our server and nginx with WORKERS workers each,
# pinned (with 2+ cores) to all CPUs but the last, which loadgen gets. Needs ROOT and sets
# WORK, DOCS, SERVER_PID/PORT, NGINX_MASTER/PORT, TARGET_CPUS, GEN_CPU and a cleanup trap.
# With TLS=1 both serve HTTPS only, with one certificate, and URL_BASE/LOADGEN_TLS say how
# to reach them.
compare_setup() {
  local workers=$1 cpus tls_args=()
  cpus=$(nproc)
  if [ "$cpus" -ge 2 ]; then
    GEN_CPU=$((cpus - 1))
    TARGET_CPUS="0-$((GEN_CPU - 1 < workers - 1 ? GEN_CPU - 1 : workers - 1))"
  else
    GEN_CPU=0 TARGET_CPUS=0
    echo "one CPU: targets and loadgen share it; ratios are still comparable, absolutes are not" >&2
  fi
  make_workdir
  cargo build --release -p server -p loadgen --manifest-path "$ROOT/Cargo.toml" >&2
  DOCS="$WORK/docs"
  make_docs "$DOCS"
  SCHEME=http HOST=127.0.0.1 LOADGEN_TLS=""
  if [ "${TLS:-0}" = 1 ]; then
    use_tls "$WORK/tls"
    tls_args=("${SERVER_TLS[@]}")
  fi
  chmod -R a+rX "$WORK"
  start_our_server "${TARGET_CPUS%%-*}" --workers "$workers" --root "$DOCS" "${tls_args[@]}"
  # Re-pin to the whole target range (start_our_server takes one CPU).
  taskset -a -p -c "$TARGET_CPUS" "$SERVER_PID" >/dev/null
  NGINX_WORKERS=$workers start_nginx "$TARGET_CPUS" "$ROOT/scripts/nginx-compare.conf" "$DOCS"
  NGINX_MASTER=$(cat "$WORK/nginx/nginx.pid")
  echo "ours: pid $SERVER_PID port $SERVER_PORT; nginx: master $NGINX_MASTER port $NGINX_PORT; targets on CPU $TARGET_CPUS, loadgen on CPU $GEN_CPU" >&2
}

# compare_rounds: every scenario (TLS_SCENARIOS with TLS=1), ours then nginx, ROUNDS times,
# into $OUT.
compare_rounds() {
  local round scenario name path conns extra list=("${SCENARIOS[@]}")
  [ "${TLS:-0}" = 1 ] && list=("${TLS_SCENARIOS[@]}")
  [ "${CHURN:-0}" = 1 ] && list=("${CHURN_SCENARIOS[@]}")
  [ -n "${CAPACITY:-}" ] && list=("${CAPACITY_SCENARIOS[@]}")
  for round in $(seq 1 "$ROUNDS"); do
    for scenario in "${list[@]}"; do
      IFS='|' read -r name path conns extra <<<"$scenario"
      compare_run ours "$name" "$path" "$conns" "$extra" "$round" "$SERVER_PID" "$SERVER_PORT"
      compare_run nginx "$name" "$path" "$conns" "$extra" "$round" "$NGINX_MASTER" "$NGINX_PORT"
    done
    echo "round $round/$ROUNDS done" >&2
  done
}

# compare_run TARGET SCENARIO PATH CONNS EXTRA ROUND PID PORT: one loadgen run into $OUT
# (with CAPACITY set, a capacity search at that SLO instead).
compare_run() {
  local target=$1 name=$2 path=$3 conns=$4 extra=$5 round=$6 pid=$7 port=$8
  if [ -n "${CAPACITY:-}" ]; then
    capacity_run "$@"
    return
  fi
  conns=${conns//\$CONNS/$CONNS}
  local base="$OUT/$name-$target-r$round"
  # shellcheck disable=SC2086
  if ! taskset -c "$GEN_CPU" "$ROOT/target/release/loadgen" -t1 -c"$conns" -d"$DURATION" --no-progress \
      --server-pid "$pid" --json "$base.json" --hlog "$base.hlog" $extra ${LOADGEN_TLS:-} \
      "${SCHEME:-http}://${HOST:-127.0.0.1}:$port$path" \
      >"$base.txt" 2>&1; then
    echo "loadgen failed for $target $name (round $round):" >&2
    cat "$base.txt" >&2
    exit 1
  fi
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(sys.argv[2], sys.argv[3], "rps %.0f" % r["rps"], "p99 %.0fus" % r["latency_us"]["p99"], "target %.2fus/req" % r["target"]["cpu_us_per_request"])' \
    "$base.json" "$target" "$name" >&2
}

# capacity_run TARGET SCENARIO PATH CONNS EXTRA ROUND PID PORT: one capacity search at the
# SLO $CAPACITY, steps of $DURATION, into $OUT (exit 3, no rate met the SLO, is a result).
capacity_run() {
  local target=$1 name=$2 path=$3 conns=$4 extra=$5 round=$6 pid=$7 port=$8 status=0
  conns=${conns//\$CONNS/$CONNS}
  local base="$OUT/$name-$target-r$round"
  # shellcheck disable=SC2086
  taskset -c "$GEN_CPU" "$ROOT/target/release/loadgen" capacity -t1 -c"$conns" --slo "$CAPACITY" \
    --step-duration "$DURATION" --step-warmup 500ms --server-pid "$pid" --no-progress --json "$base.json" \
    $extra ${LOADGEN_TLS:-} \
    "${SCHEME:-http}://${HOST:-127.0.0.1}:$port$path" >"$base.txt" 2>&1 || status=$?
  if [ "$status" != 0 ] && [ "$status" != 3 ]; then
    echo "loadgen capacity failed for $target $name (round $round):" >&2
    cat "$base.txt" >&2
    exit 1
  fi
  echo "$target $name: $(tail -n 1 "$base.txt")" >&2
}

# summary_scenarios DIR: the scenario names in DIR/summary.json, space-separated.
summary_scenarios() {
  python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["scenarios"]))' "$1/summary.json"
}

# compare_charts DIR: per scenario, both latency curves (all rounds) in DIR/<scenario>.svg, and
# the ours/nginx throughput ratios with their spread in DIR/throughput-ratio.svg.
compare_charts() {
  local dir=$1 lg=$ROOT/target/release/loadgen name
  if [ -n "${CAPACITY:-}" ]; then
    for name in $(summary_scenarios "$dir"); do
      "$lg" plot --capacity --out "$dir/$name.svg" --title "$name: latency vs throughput, our server vs nginx (round 1)" \
        "ours=$dir/$name-ours-r1.json" "nginx=$dir/$name-nginx-r1.json" 2>/dev/null
    done
    return
  fi
  for name in $(summary_scenarios "$dir"); do
    "$lg" plot --out "$dir/$name.svg" --title "$name: latency, our server vs nginx (all rounds)" \
      "ours=$(ls "$dir/$name"-ours-r*.hlog | paste -sd,)" "nginx=$(ls "$dir/$name"-nginx-r*.hlog | paste -sd,)" 2>/dev/null
  done
  # shellcheck disable=SC2046
  "$lg" plot --bars --reference 1 --out "$dir/throughput-ratio.svg" \
    --title "Throughput, our server / nginx (median, min-max over rounds)" --y-label "rps ratio" \
    $(python3 "$ROOT/scripts/lib/ratio_items.py" "$dir/summary.json") 2>/dev/null
}
