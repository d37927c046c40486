#!/usr/bin/env bash
# Runs the cargo-fuzz targets (fuzz/fuzz_targets/, checks in fuzz-checks/) one after another
# and writes a summary: executions, new corpus inputs, and any input that broke an invariant.
#
#   scripts/fuzz.sh                       # every target, 10 M executions each (the long run)
#   scripts/fuzz.sh --seconds 20          # every target for 20 s (what CI runs)
#   scripts/fuzz.sh --runs 1000000 request_head chunked_request
#   scripts/fuzz.sh --out bench-results/fuzz-$(date -u +%Y%m%dT%H%M%SZ)   # to record a run
#
# Runs on stable Rust (no sanitizer: the targets are safe Rust; the invariants are the
# oracle). New inputs go to fuzz/work/TARGET (git-ignored); the committed corpus in
# fuzz/corpus/TARGET is read, never written. A failing input is kept in fuzz/artifacts/.
# Exit 0 when no target failed, 1 otherwise, 2 on a usage error.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

RUNS=10000000
SECONDS_EACH=""
OUT=""
TARGETS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown flag $1 (see --help)" >&2; exit 2 ;;
    *) TARGETS+=("$1"); shift ;;
  esac
done
ALL=$(sed -n 's/^name = "\(.*\)"$/\1/p' "$ROOT/fuzz/Cargo.toml" | grep -v '^evloop-fuzz$')
[ ${#TARGETS[@]} -gt 0 ] || read -r -a TARGETS <<<"$(echo $ALL)"
for t in "${TARGETS[@]}"; do
  grep -qx "$t" <<<"$ALL" || { echo "fuzz.sh: no target '$t' (targets: $(echo $ALL))" >&2; exit 2; }
done
OUT=${OUT:-$ROOT/target/fuzz-runs/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd) # the runs below happen in fuzz/
cd "$ROOT/fuzz"

if ! command -v cargo-fuzz >/dev/null; then
  echo "== installing cargo-fuzz (crates.io)"
  cargo install cargo-fuzz --locked
fi
echo "== building the fuzz targets"
cargo fuzz build --sanitizer none --release

if [ -n "$SECONDS_EACH" ]; then LIMIT="-max_total_time=$SECONDS_EACH"; BOUND="$SECONDS_EACH s each"; else LIMIT="-runs=$RUNS"; BOUND="$RUNS executions each"; fi
summary="$OUT/summary.md"
{
  echo "# Fuzz run $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "Command: \`scripts/fuzz.sh $([ -n "$SECONDS_EACH" ] && echo "--seconds $SECONDS_EACH" || echo "--runs $RUNS") ${TARGETS[*]}\`"
  echo "Rig: $(nproc) cores, one libFuzzer process at a time, cargo fuzz --sanitizer none --release, rustc $(rustc --version | cut -d' ' -f2), commit $(git -C "$ROOT" rev-parse --short HEAD)"
  echo
  echo "| target | executions | seconds | exec/s | corpus inputs kept | invariant violations |"
  echo "|---|---|---|---|---|---|"
} >"$summary"
failed=0
for t in "${TARGETS[@]}"; do
  mkdir -p "work/$t" "artifacts/$t"
  log="$OUT/$t.log"
  echo "== $t ($BOUND)"
  start=$(date +%s)
  set +e
  cargo fuzz run --sanitizer none --release "$t" "work/$t" "corpus/$t" -- \
    "$LIMIT" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 >"$log" 2>&1
  rc=$?
  set -e
  secs=$(( $(date +%s) - start ))
  # Keep the start and the final stats; libFuzzer's progress lines run to megabytes.
  { head -8 "$log"; echo "[... libFuzzer progress lines dropped ...]"; tail -14 "$log"; } >"$log.short" && mv "$log.short" "$log"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  kept=$(find "work/$t" -type f | wc -l)
  if [ $rc -eq 0 ]; then
    verdict=0
  else
    verdict="**1**: $(grep -a -m1 -o 'Test unit written to .*' "$log" || echo "exit $rc, see $t.log")"
    failed=1
    grep -a -m1 -A3 'panicked' "$log" >&2 || tail -5 "$log" >&2
  fi
  echo "| $t | ${execs:-?} | $secs | $(( ${execs:-0} / (secs > 0 ? secs : 1) )) | $kept | $verdict |" >>"$summary"
done
cat "$summary"
echo "(written to $summary)"
exit $failed
