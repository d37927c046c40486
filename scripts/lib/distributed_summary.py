"""Summary of scripts/bench-distributed.sh: exact counts, independently computed merged
percentiles, merged vs single-process rps, start skew, report size growth."""
import json
import os
import sys

from hdrh.histogram import HdrHistogram

import results

work, rate, duration, rounds, connections, command = sys.argv[1:7]
rounds = int(rounds)
load = lambda name: json.load(open(os.path.join(work, name)))
served = {(r["round"], r["run"]): r["served"] for r in results.read_jsonl(os.path.join(work, "served.jsonl"))}

rows = []
for r in range(1, rounds + 1):
    one = load(f"one-{r}.json")
    merged = load(f"merged-{r}.json")
    shards = [load(f"shard-{r}-{i}.json") for i in (1, 2, 3)]
    # The independent reader: the shards' own histograms, decoded and added by Python hdrh.
    union = None
    for s in shards:
        h = HdrHistogram.decode(s["histograms"]["response"])
        if union is None:
            union = h
        else:
            union.add(h)
    independent = {p: union.get_value_at_percentile(p) for p in (50, 99, 99.9)}
    ours = {50: merged["latency_us"]["p50"], 99: merged["latency_us"]["p99"], 99.9: merged["latency_us"]["p99_9"]}
    ours_ns = {p: round(v * 1000) for p, v in ours.items()}
    rows.append({
        "round": r,
        "one_rps": one["rps"],
        "merged_rps": merged["rps"],
        "rps_ratio": merged["rps"] / one["rps"],
        "one_requests": one["requests"],
        "one_served": served[(r, "one")],
        "merged_requests": merged["requests"],
        "merged_served": served[(r, "merged")],
        "union_count": union.get_total_count(),
        "percentiles_ns_merged": ours_ns,
        "percentiles_ns_independent": independent,
        "percentiles_equal": all(ours_ns[p] == independent[p] for p in ours_ns),
        "max_start_skew_ms": max(s["start_skew_ms"] for s in merged["shards"]),
        "max_start_late_ms": max(s["start_late_ms"] for s in merged["shards"]),
        "generator_busiest_pct": max(s["busiest_thread_cpu_pct"] for s in merged["shards"]),
    })

size5 = os.path.getsize(os.path.join(work, "size-5.json"))
size30 = os.path.getsize(os.path.join(work, "size-30.json"))
growth = (size30 - size5) / 25
size = {"bytes_5s": size5, "bytes_30s": size30, "bytes_per_second": growth,
        "bytes_600s_extrapolated": size30 + growth * 570}

rig = (f"2-core shared VM; our server, 1 worker, on CPU 0, a fresh server per run; loadgen -t1 on CPU 1 "
       f"(all three shards on it too); /plaintext, open loop at {rate} req/s (shards {int(rate) // 3} each), "
       f"-c {connections} (shards {int(connections) // 3}), -d {duration}, --start-at (connections a second "
       f"early, no warmup), {rounds} rounds interleaved one process / 3 shards")
lines = results.header("Distributed runs: 3 shards merged vs one process", rig, command)
lines += ["| round | one rps | merged rps | merged/one | merged responses | server served | percentiles p50/p99/p99.9 (ns), merged | same, independent (Python hdrh) | equal | max start skew | max start late |",
          "|---|---|---|---|---|---|---|---|---|---|---|"]
for x in rows:
    m, i = x["percentiles_ns_merged"], x["percentiles_ns_independent"]
    lines.append(f"| {x['round']} | {x['one_rps']:.1f} | {x['merged_rps']:.1f} | {x['rps_ratio']:.4f} | "
                 f"{x['merged_requests']} | {x['merged_served']} | {m[50]}/{m[99]}/{m[99.9]} | "
                 f"{i[50]}/{i[99]}/{i[99.9]} | {'yes' if x['percentiles_equal'] else 'NO'} | "
                 f"{x['max_start_skew_ms']:.3f} ms | {x['max_start_late_ms']:.3f} ms |")
ratio = results.spread(x["rps_ratio"] for x in rows)
skew = results.spread(x["max_start_skew_ms"] for x in rows)
lines += ["",
          f"- merged rps / one process's rps: {results.fmt(ratio, 4)} (median, min-max over rounds)",
          f"- merged responses = server's counter in {sum(x['merged_requests'] == x['merged_served'] for x in rows)} of {rounds} rounds "
          f"(one process: {sum(x['one_requests'] == x['one_served'] for x in rows)} of {rounds})",
          f"- merged p50/p99/p99.9 = the independent reader's in {sum(x['percentiles_equal'] for x in rows)} of {rounds} rounds",
          f"- start skew between shards (max per round): {results.fmt(skew, 3)} ms",
          f"- report size: {size5} B at 5 s, {size30} B at 30 s: {growth:.0f} B per second of timeline, "
          f"so a 10-minute shard report is about {size['bytes_600s_extrapolated'] / 1e6:.2f} MB"]
results.write(os.path.join(work, "summary"), {"rig": rig, "command": command, "rounds": rows, "rps_ratio": ratio,
                                               "start_skew_ms": skew, "report_size": size}, lines)
