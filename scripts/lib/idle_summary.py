"""Summary for scripts/bench-idle.sh: bytes per idle connection and p99 with and without
them, ours vs nginx, median and min-max over rounds.
usage: idle_summary.py RUNS.jsonl OUT_PREFIX COMMAND"""
import sys

from results import fmt, header, read_jsonl, spread, write

runs_path, base, command = sys.argv[1:4]
runs = read_jsonl(runs_path)
by = {t: [r for r in runs if r["target"] == t] for t in ("ours", "nginx")}
rounds = sorted({r["round"] for r in runs})
pair = lambda rnd, t: next(r for r in by[t] if r["round"] == rnd)
ratio = spread([pair(n, "ours")["bytes_per_conn"] / max(pair(n, "nginx")["bytes_per_conn"], 1) for n in rounds])
summary = {"command": command, "idle": runs[0]["idle"], "runs": runs, "bytes_per_conn_ratio": ratio}
lines = [
    "| target | idle connections | bytes per idle connection | p99 before | p99 while held | answered afterwards |",
    "|---|---|---|---|---|---|",
]
for t, rs in by.items():
    b = spread(r["bytes_per_conn"] for r in rs)
    summary[t] = {"bytes_per_conn": b}
    lines.append(
        f"| {t} | {rs[0]['idle']} | {fmt(b, 0)} | {fmt(spread(r['p99_before_us'] for r in rs), 0)}us "
        f"| {fmt(spread(r['p99_during_us'] for r in rs), 0)}us | {min(r['answered'] for r in rs)} of {rs[0]['idle']} |"
    )
lines += ["", f"Bytes per idle connection, ours/nginx per round: {fmt(ratio)}"]
rig = f"one worker each on CPU 0, idle clients and loadgen -t1 -c50 -d3s on CPU 1, {len(rounds)} rounds interleaved ours/nginx"
write(base, summary, header("Idle keep-alive connections: our server vs nginx", rig, command) + lines)
