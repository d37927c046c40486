#!/usr/bin/env bash
# Performance regression gate: our server vs nginx in the same job, interleaved rounds,
# ours/nginx ratios per scenario compared with bench-results/baseline.json.
#
# Ratios, not absolutes: nginx runs on the same machine in the same minute, so a slower or
# noisier CI machine moves both. Each scenario's rounds go through `loadgen compare --base
# nginx... --new ours...` (loadgen's statistic: Welch t on the rounds' means, see
# loadgen/src/significance.rs), which gives each ratio with a 95% confidence interval. A ratio fails when its whole interval lies on the bad side of the
# baseline and its estimate is worse than the baseline by more than --max-regression.
# Fewer than 3 rounds gives "not enough samples" (nothing can fail) unless the rounds hold
# 5 seconds between them (then a within-run test, which cannot see run-to-run noise).
#
# Usage: scripts/ci-perf.sh [--rounds 5] [--duration 2s] [--max-regression 5%] [--baseline FILE]
#                           [--update-baseline] [--floor 0.5] [--out DIR]
#   --update-baseline  write this run's ratios as the new baseline (exit 0)
#   --floor F          gate only on a hard floor: fail when a ratio's median over rounds is
#                      worse than F x the baseline (what .ci/run uses: it cannot flake)
# Exit: 0 pass, 3 regression, 2 usage error or nginx missing, 1 a run failed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"

ROUNDS=5 DURATION=2s CONNS=64 MAX_REGRESSION=5% BASELINE=$ROOT/bench-results/baseline.json
UPDATE=0 FLOOR="" OUT=""
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    --duration) DURATION=${2:?}; shift 2 ;;
    --max-regression) MAX_REGRESSION=${2:?}; shift 2 ;;
    --baseline) BASELINE=${2:?}; shift 2 ;;
    --update-baseline) UPDATE=1; shift ;;
    --floor) FLOOR=${2:?}; shift 2 ;;
    --out) OUT=${2:?}; shift 2 ;;
    *) echo "ci-perf.sh: unknown option '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done
if ! command -v nginx >/dev/null; then
  echo "nginx is not installed. Install it with: apt-get install -y nginx (Debian/Ubuntu)" >&2
  exit 2
fi
if [ "$UPDATE" = 0 ] && [ ! -f "$BASELINE" ]; then
  echo "no baseline at $BASELINE: run with --update-baseline first" >&2
  exit 2
fi

compare_setup 1
OUT=${OUT:-$WORK/runs}
mkdir -p "$OUT"
compare_rounds
python3 "$ROOT/scripts/lib/compare_summary.py" "$OUT" \
  "targets on CPU $TARGET_CPUS, loadgen -t1 -d$DURATION on CPU $GEN_CPU, $ROUNDS rounds" \
  "scripts/ci-perf.sh --rounds $ROUNDS --duration $DURATION" >/dev/null
# ours against nginx per scenario (exit 3 only means "ours is significantly worse than
# nginx", which is not the question here).
mkdir -p "$OUT/verdicts"
for scenario in $(summary_scenarios "$OUT"); do
  # shellcheck disable=SC2046
  "$ROOT/target/release/loadgen" compare --metric rps,target_cpu_us_per_req --max-regression 0% \
    --base $(ls "$OUT/$scenario"-nginx-r*.json | sort -V) --new $(ls "$OUT/$scenario"-ours-r*.json | sort -V) \
    --json "$OUT/verdicts/$scenario.json" >/dev/null || [ $? = 3 ]
done
ARGS=("$OUT/summary.json" "$BASELINE" "$OUT/verdicts" --max-regression "$MAX_REGRESSION")
[ "$UPDATE" = 1 ] && ARGS+=(--update)
[ -n "$FLOOR" ] && ARGS+=(--floor "$FLOOR")
python3 "$ROOT/scripts/lib/perf_gate.py" "${ARGS[@]}"
