"""Summary for scripts/ab-builds.sh: two builds, new/base per round.
usage: ab_summary.py RUNS.jsonl OUT_PREFIX BASE NEW RIG COMMAND"""
import sys

from results import fmt, median, ratios, read_jsonl, write

runs_path, out, base, new, rig, command = sys.argv[1:7]
runs = read_jsonl(runs_path)
lines = ["# Two builds A/B\n", f"Base: `{base}`; new: `{new}`.\n", f"Rig: {rig}.\n", f"Command: `{command}`\n",
         "| role | scenario | metric | base (median) | new (median) | new/base per round: median (min-max) | errors |",
         "|---|---|---|---|---|---|---|"]
summary = {"rig": rig, "command": command, "runs": runs, "rows": []}
for role, metrics in [("server", ["server_cpu_us_per_req", "rps"]), ("generator", ["generator_cpu_us_per_req", "rps"])]:
    for sc in dict.fromkeys(r["scenario"] for r in runs):
        b = [r for r in runs if (r["role"], r["build"], r["scenario"]) == (role, "base", sc)]
        n = [r for r in runs if (r["role"], r["build"], r["scenario"]) == (role, "new", sc)]
        if not b or not n:
            continue
        for m in metrics:
            row = {"role": role, "scenario": sc, "metric": m, "base": median(r[m] for r in b),
                   "new": median(r[m] for r in n), "ratio": ratios(n, b, m), "errors": sum(r["errors"] for r in b + n)}
            summary["rows"].append(row)
            lines.append(f"| {role} | {sc} | {m} | {row['base']:.2f} | {row['new']:.2f} | "
                         f"{fmt(row['ratio'], 3)} | {row['errors']} |")
lines.append("\nServer role: both servers loaded by the new loadgen. Generator role: both loadgens against the new server.")
write(out, summary, lines)
