"""Summary for scripts/bench-loadgen.sh: loadgen vs wrk, per round and as medians.
usage: loadgen_vs_wrk_summary.py RUNS.jsonl OUT_PREFIX TARGET URL DURATION CONNS ROUNDS COMMAND"""
import sys

from results import read_jsonl, spread, write

runs_path, base, target, url, duration, conns, rounds, invocation = sys.argv[1:]
runs = read_jsonl(runs_path)
def summary(tool, scenario, key):
    return spread(r[key] for r in runs if r["tool"] == tool and r["scenario"] == scenario)
metrics = ["rps", "generator_cpu_us_per_req", "target_cpu_us_per_req"]
table = {f"{tool}/{scenario}": {m: summary(tool, scenario, m) for m in metrics}
         for scenario in ["plain", "pipeline16"] for tool in ["loadgen", "wrk"]}
ratios = {}
for scenario in ["plain", "pipeline16"]:
    lg, wrk = table[f"loadgen/{scenario}"], table[f"wrk/{scenario}"]
    ratios[scenario] = {
        "rps_loadgen_over_wrk": lg["rps"]["median"] / max(wrk["rps"]["median"], 1e-9),
        "cpu_per_req_loadgen_over_wrk": lg["generator_cpu_us_per_req"]["median"]
        / max(wrk["generator_cpu_us_per_req"]["median"], 1e-9),
    }
result = {"target": target, "url": url, "duration": duration, "connections": conns,
          "rounds": int(rounds), "command": invocation, "summary": table, "ratios": ratios,
          "runs": runs}
lines = [f"# loadgen vs wrk ({target})", "",
         f"`{invocation}` - target `{url}` on CPU 0, generators -t1 -c{conns} -d{duration} "
         f"on CPU 1, {rounds} rounds interleaved (loadgen, wrk, loadgen --pipeline 16, "
         "wrk + 16-request Lua pipeline). Median [min-max] over rounds.", "",
         "| generator | rps | generator CPU-us/req | target CPU-us/req |",
         "|---|---|---|---|"]
for name, row in table.items():
    cells = [f"{row[m]['median']:.2f} [{row[m]['min']:.2f}-{row[m]['max']:.2f}]" for m in metrics]
    lines.append(f"| {name} | " + " | ".join(cells) + " |")
lines += ["", "| scenario | rps loadgen/wrk | generator CPU-us/req loadgen/wrk |", "|---|---|---|"]
for scenario, r in ratios.items():
    lines.append(f"| {scenario} | {r['rps_loadgen_over_wrk']:.3f} | "
                 f"{r['cpu_per_req_loadgen_over_wrk']:.3f} |")
warnings = sorted({w for r in runs for w in r.get("warnings", [])})
if warnings:
    lines += ["", "loadgen warnings:"] + [f"- {w}" for w in warnings]
write(base, result, lines)
