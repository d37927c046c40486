"""Summary for scripts/bench-loadgen.sh: loadgen vs wrk (and h2load for churn), per round
and as medians.
usage: loadgen_vs_wrk_summary.py RUNS.jsonl OUT_PREFIX TARGET URL DURATION CONNS ROUNDS COMMAND"""
import sys

from results import read_jsonl, spread, write

runs_path, base, target, url, duration, conns, rounds, invocation = sys.argv[1:]
runs = read_jsonl(runs_path)
def summary(tool, scenario, key):
    return spread(r[key] for r in runs if r["tool"] == tool and r["scenario"] == scenario)
metrics = ["rps", "generator_cpu_us_per_req", "target_cpu_us_per_req"]
# Each scenario: loadgen and the other tool that ran it (wrk, or h2load for churn).
scenarios = list(dict.fromkeys(r["scenario"] for r in runs))
others = {s: next(r["tool"] for r in runs if r["scenario"] == s and r["tool"] != "loadgen") for s in scenarios}
table = {f"{tool}/{scenario}": {m: summary(tool, scenario, m) for m in metrics}
         for scenario in scenarios for tool in ["loadgen", others[scenario]]}
ratios = {}
for scenario in scenarios:
    lg, other = table[f"loadgen/{scenario}"], table[f"{others[scenario]}/{scenario}"]
    ratios[scenario] = {
        "other": others[scenario],
        "rps_loadgen_over_other": lg["rps"]["median"] / max(other["rps"]["median"], 1e-9),
        "cpu_per_req_loadgen_over_other": lg["generator_cpu_us_per_req"]["median"]
        / max(other["generator_cpu_us_per_req"]["median"], 1e-9),
    }
result = {"target": target, "url": url, "duration": duration, "connections": conns,
          "rounds": int(rounds), "command": invocation, "summary": table, "ratios": ratios,
          "runs": runs}
lines = [f"# loadgen vs wrk ({target})", "",
         f"`{invocation}` - target `{url}` on CPU 0, generators -t1 -c{conns} -d{duration} "
         f"on CPU 1, {rounds} rounds, each running the rows below in order (pipeline16: "
         "wrk with a 16-request Lua pipeline; churn: loadgen --no-keepalive, h2load --h1 "
         "with Connection: close). Median [min-max] over rounds.", "",
         "| generator | rps | generator CPU-us/req | target CPU-us/req |",
         "|---|---|---|---|"]
for name, row in table.items():
    cells = [f"{row[m]['median']:.2f} [{row[m]['min']:.2f}-{row[m]['max']:.2f}]" for m in metrics]
    lines.append(f"| {name} | " + " | ".join(cells) + " |")
lines += ["", "| scenario | against | rps loadgen/other | generator CPU-us/req loadgen/other |",
          "|---|---|---|---|"]
for scenario, r in ratios.items():
    lines.append(f"| {scenario} | {r['other']} | {r['rps_loadgen_over_other']:.3f} | "
                 f"{r['cpu_per_req_loadgen_over_other']:.3f} |")
warnings = sorted({w for r in runs for w in r.get("warnings", [])})
if warnings:
    lines += ["", "loadgen warnings:"] + [f"- {w}" for w in warnings]
write(base, result, lines)
