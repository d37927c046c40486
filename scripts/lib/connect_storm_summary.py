"""Summary for scripts/bench-connect-storm.sh: time to open N connections, connect times and
the kernel's listen-queue counters, paced vs unpaced, ours and nginx; median and min-max
over rounds.
usage: connect_storm_summary.py RUNS.jsonl OUT_PREFIX N DURATION COMMAND [RATE]"""
import sys

from results import fmt, header, read_jsonl, spread, write

runs_path, base, n, duration, command = sys.argv[1:6]
rate = sys.argv[6] if len(sys.argv) > 6 and sys.argv[6] else None
runs = read_jsonl(runs_path)
rounds = sorted({r["round"] for r in runs})
COUNTERS = ["TcpExtListenOverflows", "TcpExtListenDrops", "TcpExtTCPReqQFullDrop",
            "TcpExtTCPReqQFullDoCookies", "TcpExtTCPSynRetrans"]
summary = {"command": command, "connections": int(n), "runs": runs, "cases": {}}
lines = [
    "| target | pacing | all open after (s) | connect p50 (ms) | connect p99 (ms) | connect max (ms) "
    "| connect errors | listen overflows | SYN cookies | SYN retransmits | latency p99 (ms) |"
    + (" send lag p50 (ms) |" if rate else ""),
    "|---|---|---|---|---|---|---|---|---|---|---|" + ("---|" if rate else ""),
]
for target in ("ours", "nginx"):
    for mode in ("paced", "unpaced"):
        rs = [r for r in runs if r["target"] == target and r["mode"] == mode]
        # A run where all never were open at once counts as its whole duration, and says so.
        never = sum(r["all_open_s"] is None for r in rs)
        all_open = spread(r["all_open_s"] if r["all_open_s"] is not None else float("inf") for r in rs)
        ms = lambda key: spread(r[key] / 1000 for r in rs)
        kernel = {k: spread(r["kernel"][k] for r in rs) for k in COUNTERS}
        case = {"all_open_s": all_open, "never_all_open": never, "connect_p50_ms": ms("connect_p50_us"),
                "connect_p99_ms": ms("connect_p99_us"), "connect_max_ms": ms("connect_max_us"),
                "connect_errors": spread(r["connect_errors"] for r in rs), "kernel": kernel,
                "latency_p99_ms": ms("latency_p99_us")}
        if rate:
            case["send_lag_p50_ms"] = ms("send_lag_p50_us")
        summary["cases"][f"{target}/{mode}"] = case
        lines.append(
            f"| {target} | {mode} | {fmt(all_open, 3)}{f' ({never} never)' if never else ''} "
            f"| {fmt(case['connect_p50_ms'], 1)} | {fmt(case['connect_p99_ms'], 1)} | {fmt(case['connect_max_ms'], 1)} "
            f"| {fmt(case['connect_errors'], 0)} | {fmt(kernel['TcpExtListenOverflows'], 0)} "
            f"| {fmt(kernel['TcpExtTCPReqQFullDoCookies'], 0)} | {fmt(kernel['TcpExtTCPSynRetrans'], 0)} "
            f"| {fmt(case['latency_p99_ms'], 1)} |" + (f" {fmt(case['send_lag_p50_ms'], 2)} |" if rate else "")
        )
lines += ["", "Paced: the default --connect-concurrency; unpaced: --connect-concurrency N (every "
          "connection started at once, as before pacing). Kernel counters are deltas over the run "
          "(system-wide); TcpExtTCPReqQFullDrop (SYNs dropped for a full SYN queue without cookies) "
          f"and TcpExtListenDrops are in the JSON."]
load = f"open loop -R {rate}" if rate else "closed loop"
rig = (f"our server --workers 1 (backlog 4096) and nginx 1 worker (backlog 511) on CPU 0; loadgen -t1 "
       f"-c{n} -d{duration} ({load}) on CPU 1, keep-alive /plaintext on every connection; {len(rounds)} rounds "
       "interleaved ours paced/unpaced, nginx paced/unpaced")
write(base, summary, header(f"Connect storm: {n} connections, paced vs unpaced", rig, command) + lines)
