#!/usr/bin/env python3
"""Draws the unit-utilisation timeline of a trace, from the analysis `lpusim report` writes.

    tools/plot_timeline.py ANALYSIS.json OUT.png

`lpusim report TRACE.json` runs this itself (with the analysis in a temporary file beside the
PNG). One row per unit group (MEM west, VXM, MXM east, ...) in floorplan order, sharing the
cycle axis: the share of the group's queues that have an instruction in flight (issued, result
not yet landed), per bin of cycles, 0-100%. The critical path's runs are marked on a strip at
the bottom, in the colour of the unit group they run on.

Exit 0 when the PNG is written, 2 with one line on stderr for a bad analysis file, 1 when
matplotlib is missing (Debian's python3-matplotlib; tools/install-deps.sh).
"""
import json
import os
import sys

try:
    import matplotlib
except ImportError:
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath(
            "/usr/bin/python3") and not os.environ.get("PLOT_TIMELINE_REEXEC"):
        os.environ["PLOT_TIMELINE_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3", os.path.abspath(__file__)] + sys.argv[1:])
    sys.stderr.write("plot_timeline: matplotlib is missing: install Debian's python3-matplotlib "
                     "(tools/install-deps.sh)\n")
    sys.exit(1)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import ticker  # noqa: E402

COLORS = plt.get_cmap("tab10").colors


def fail(msg):
    sys.stderr.write(f"plot_timeline: {msg}\n")
    sys.exit(2)


def load(path):
    try:
        with open(path) as f:
            data = json.load(f)
        timeline = data["timeline"]
        groups = timeline["groups"]
        bin_cycles = int(timeline["bin_cycles"])
        span = int(data["span_cycles"])
        for g in groups:
            if not isinstance(g["name"], str) or not all(isinstance(v, (int, float)) for v in g["utilisation"]):
                raise ValueError("a group needs a name and numeric utilisation")
    except (OSError, ValueError, KeyError, TypeError) as e:
        fail(f"{path}: not an lpusim report analysis ({e})")
    if not groups or span <= 0 or bin_cycles <= 0:
        fail(f"{path}: nothing to draw (no unit groups or an empty span)")
    return data, groups, bin_cycles, span


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: plot_timeline.py ANALYSIS.json OUT.png\n")
        return 2
    data, groups, bin_cycles, span = load(argv[0])
    color_of = {g["name"]: COLORS[i % 10] for i, g in enumerate(groups)}
    runs = data.get("critical_path", {}).get("runs", [])
    rows = len(groups) + (1 if runs else 0)
    fig, axes = plt.subplots(rows, 1, figsize=(11, 0.85 * rows + 1.6), sharex=True, layout="constrained",
                             gridspec_kw={"height_ratios": [1] * len(groups) + ([0.6] if runs else [])})
    axes = list(axes) if rows > 1 else [axes]
    for ax, g in zip(axes, groups):
        values = [100.0 * v for v in g["utilisation"]]
        xs = [i * bin_cycles for i in range(len(values))]
        # Steps: each bin's value holds over its cycles.
        ax.fill_between(xs + [min(len(values) * bin_cycles, span)], values + [values[-1] if values else 0], step="post",
                        color=color_of[g["name"]], alpha=0.75, linewidth=0)
        ax.set_ylim(0, 100)
        ax.set_yticks([0, 50, 100])
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda y, _: f"{y:.0f}%"))
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(True, axis="y", alpha=0.3)
        ax.set_ylabel(f"{g['name']}\n{g['queues']} queues, avg {100 * g['average']:.1f}%", rotation=0, ha="right",
                      va="center", fontsize=8.5)
    if runs:
        # The critical path, each run coloured as the row of the unit group it runs on.
        ax = axes[-1]
        for r in runs:
            color = color_of.get(r.get("group"), "#777777")
            ax.broken_barh([(r["start"], max(r["end"] - r["start"], 1))], (0, 1), facecolors=color, edgecolor="none")
        ax.set_ylim(0, 1)
        ax.set_yticks([])
        ax.set_ylabel("critical path\n(inferred)", rotation=0, ha="right", va="center", fontsize=8.5)
    axes[-1].set_xlim(0, span)
    axes[-1].set_xlabel(f"cycle (bins of {bin_cycles} cycle{'s' if bin_cycles != 1 else ''}; "
                        f"{span} cycles = {span / data['clock_mhz']:.3f} µs at {data['clock_mhz']:g} MHz)"
                        if data.get("clock_mhz") else f"cycle (bins of {bin_cycles})")
    axes[-1].xaxis.set_major_formatter(ticker.FuncFormatter(lambda x, _: f"{x:,.0f}"))
    title = f"Unit utilisation over time: {os.path.basename(data.get('program') or '?')} on {data.get('chip') or '?'}"
    fig.suptitle(f"{title}\n", fontsize=12)
    axes[0].set_title("share of each unit group's queues with an instruction in flight (from issue to result); "
                      "the critical path in the colour of its unit", fontsize=8.5, color="#555555")
    fig.savefig(argv[1], dpi=130, metadata={"Software": None})
    print(argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
