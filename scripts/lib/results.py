"""The one results module of the bench scripts: rounds summarised one way (median, min, max),
shown one way ("median (min-max)"), written one way (JSON + markdown with the command and
the rig). Every summary script imports it; none computes a median of its own."""
import json
import statistics
import sys


def spread(values):
    values = list(values)
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "values": values}


def median(values):
    return statistics.median(list(values))


def fmt(sp, digits=2):
    return f"{sp['median']:.{digits}f} ({sp['min']:.{digits}f}-{sp['max']:.{digits}f})"


def ratios(numerators, denominators, key):
    """Per-round ratios of `key`, rounds paired in order."""
    return spread(a[key] / b[key] for a, b in zip(numerators, denominators))


def read_jsonl(path):
    return [json.loads(line) for line in open(path) if line.strip()]


def header(title, rig, command):
    return [f"# {title}\n", f"Rig: {rig}.\n", f"Command: `{command}`\n"]


def write(out_prefix, summary, lines):
    """OUT_PREFIX.json and OUT_PREFIX.md; the markdown is printed too."""
    json.dump(summary, open(out_prefix + ".json", "w"), indent=2)
    open(out_prefix + ".md", "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwritten: {out_prefix}.json {out_prefix}.md", file=sys.stderr)
