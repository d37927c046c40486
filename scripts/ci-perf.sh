#!/usr/bin/env bash
# Performance regression gate: our server vs nginx in the same job, interleaved rounds,
# ours/nginx ratios per scenario compared with bench-results/baseline.json.
#
# Ratios, not absolutes: nginx runs on the same machine in the same minute, so a slower or
# noisier CI machine moves both. A scenario fails when its median ratio is worse than the
# baseline by more than a noise band: the larger of --min-band and the relative spread
# measured in this run (max-min over median), so a noisy run widens its own tolerance
# instead of raising false alarms, while a real 20% loss on a quiet run still fails.
#
# Usage: scripts/ci-perf.sh [--rounds 3] [--duration 3s] [--min-band 10%] [--baseline FILE]
#                           [--update-baseline] [--floor 0.5] [--out DIR]
#   --update-baseline  write this run's ratios as the new baseline (exit 0)
#   --floor F          gate only on a hard floor: fail when a ratio is worse than F x the
#                      baseline (the mode .ci/run uses: it cannot flake on a noisy machine)
# Exit: 0 pass, 3 regression, 2 usage error or nginx missing, 1 a run failed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"

ROUNDS=3 DURATION=3s CONNS=64 MIN_BAND=10% BASELINE=$ROOT/bench-results/baseline.json
UPDATE=0 FLOOR="" OUT=""
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    --duration) DURATION=${2:?}; shift 2 ;;
    --min-band) MIN_BAND=${2:?}; shift 2 ;;
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
ARGS=("$OUT/summary.json" "$BASELINE" --min-band "$MIN_BAND")
[ "$UPDATE" = 1 ] && ARGS+=(--update)
[ -n "$FLOOR" ] && ARGS+=(--floor "$FLOOR")
python3 "$ROOT/scripts/lib/perf_gate.py" "${ARGS[@]}"
