"""Summary for scripts/bench-group-commit.sh.
usage: group_commit_summary.py RUNS.jsonl OUT_PREFIX COMMAND RIG
Writes OUT_PREFIX.json and OUT_PREFIX.md, prints the markdown."""
import json
import sys

from results import median as med, read_jsonl, spread

runs_path, out, command, rig = sys.argv[1:5]
runs = read_jsonl(runs_path)


def pick(mode, scenario, conns=None):
    return [r for r in runs if r["mode"] == mode and r["scenario"] == scenario
            and (conns is None or r["connections"] == conns)]


likes = []
for conns in sorted({r["connections"] for r in runs if r["scenario"] == "likes"}):
    group, single = pick("group-commit", "likes", conns), pick("per-request", "likes", conns)
    likes.append({
        "connections": conns,
        "likes_per_s_group_commit": med(r["rps"] for r in group),
        "likes_per_s_per_request": med(r["rps"] for r in single),
        "group_over_per_request": spread([a["rps"] / b["rps"] for a, b in zip(group, single)]),
        "p99_us_group_commit": med(r["p99_us"] for r in group),
        "p99_us_per_request": med(r["p99_us"] for r in single),
        "server_cpu_us_per_like_group_commit": med(r["cpu_us_per_req"] for r in group),
    })
getp, js = pick("group-commit", "get-post"), pick("group-commit", "json")
cpu = [a["cpu_us_per_req"] / b["cpu_us_per_req"] for a, b in zip(getp, js)]
summary = {
    "command": command,
    "rig": rig,
    "likes": likes,
    "get_post_cpu_us_per_req": med(r["cpu_us_per_req"] for r in getp),
    "json_cpu_us_per_req": med(r["cpu_us_per_req"] for r in js),
    "get_post_over_json_cpu": spread(cpu),
    "errors": sum(r["errors"] + r["non2xx"] for r in runs),
    "runs": runs,
}
json.dump(summary, open(out + ".json", "w"), indent=2)

ms = lambda us: f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.0f} us"
rows = "\n".join(
    f"| {l['connections']} | {l['likes_per_s_group_commit']:.0f} | {l['likes_per_s_per_request']:.0f} "
    f"| **{l['group_over_per_request']['median']:.1f}x** ({l['group_over_per_request']['min']:.1f}-"
    f"{l['group_over_per_request']['max']:.1f}) | {ms(l['p99_us_group_commit'])} | {ms(l['p99_us_per_request'])} "
    f"| {l['server_cpu_us_per_like_group_commit']:.2f} |"
    for l in likes
)
c = summary["get_post_over_json_cpu"]
md = f"""# Like API: group commit and read cost

Rig: {rig}.

Command: `{command}`

| connections | likes/s, group commit | likes/s, one transaction per like | group / per-like (median, min-max) | p99 group | p99 per-like | server CPU-us per like (group) |
|---|---|---|---|---|---|---|
{rows}

| read cost | value |
|---|---|
| GET /api/posts/{{id}} CPU-us/req | {summary['get_post_cpu_us_per_req']:.2f} |
| GET /json CPU-us/req | {summary['json_cpu_us_per_req']:.2f} |
| GET post / GET json CPU | **{c['median']:.2f}x** ({c['min']:.2f}-{c['max']:.2f}) |
| errors + non-2xx over all runs | {summary['errors']} |

Every like request changes a row (each (user, post) pair is liked in one pass and unliked in
the next), so each needs a commit; with `synchronous=FULL` each commit fsyncs the WAL. One
transaction per like is bound by the fsync; group commit by how many likes are in flight
(one batch is at most every waiting like) and by CPU 0, which the worker and the database
thread share.
"""
open(out + ".md", "w").write(md)
print(md)
print(f"written: {out}.json {out}.md")
