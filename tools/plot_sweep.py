#!/usr/bin/env python3
"""Draws the plots of a chip-parameter sweep (`lpusim explore` / `lpusim merge` results CSV).

    tools/plot_sweep.py results.csv [--out DIR]

Writes PNG and SVG files into DIR (default: the CSV's folder) and prints each path written:
  tps_vs_<param>.png/.svg   for each swept parameter (with two values or more): tokens/s per user against it, one line per
                            model; when other parameters vary too, one panel per model with one
                            line per combination of the others
  pareto_chips.png/.svg     Pareto front of tokens/s per user (higher is better) against chips
                            (fewer is better), one front per model; dominated points drawn faintly
  pareto_sram.png/.svg      the same against SRAM provisioned, chips x sram_capacity_bytes (or,
                            without that column, sram_used_bytes / sram_fraction; sram_used_bytes
                            where the fraction is missing too)

CSV: columns point, model, status (ok|failed), tokens_per_s_per_user, chips, sram_used_bytes,
sram_fraction, and one `param:KEY.PATH` column per swept parameter; an optional tokens_from
column (decode, or prefill for an encoder, whose model name then gets " (prompt tokens)"); the
other columns of docs/sweeps.md are not drawn here. A parameter with a single value gets no
plot. Failed rows are skipped and counted (a note on each figure and a line on stderr).

Exit 0 when the plots are written, 2 with one line on stderr for a bad CSV, 1 when there is
nothing to plot (every point failed). Needs matplotlib: Debian's python3-matplotlib
(tools/install-deps.sh); when the `python3` on PATH lacks it, the script reruns itself with
/usr/bin/python3.
"""
import argparse
import csv
import math
import os
import sys

try:
    import matplotlib
except ImportError:
    # A python3 from PATH (pyenv, venv) that does not see Debian's dist-packages.
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath(
            "/usr/bin/python3") and not os.environ.get("PLOT_SWEEP_REEXEC"):
        os.environ["PLOT_SWEEP_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3", os.path.abspath(__file__)] + sys.argv[1:])
    sys.stderr.write("plot_sweep: matplotlib is missing: install Debian's python3-matplotlib "
                     "(tools/install-deps.sh)\n")
    sys.exit(1)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import ticker  # noqa: E402

REQUIRED = ["point", "model", "status", "tokens_per_s_per_user", "chips", "sram_used_bytes", "sram_fraction"]
PARAM_PREFIX = "param:"

# Units by the last component of a parameter's key path (exact name, then suffix).
UNIT_BY_NAME = {"batch": "sequences", "words_per_slice": "words of 320 B", "mem_slice_words": "words of 320 B",
                "slices_per_hemisphere": "slices", "superlanes": "superlanes", "planes": "planes",
                "links": "links", "chips": "chips"}
UNIT_BY_SUFFIX = [("_mhz", "MHz"), ("_ghz", "GHz"), ("_gbps", "Gb/s"), ("_bytes", "bytes"), ("_us", "µs"),
                  ("_ns", "ns"), ("_cycles", "cycles"), ("_words", "words"), ("_tokens", "tokens")]
SHORT_UNIT = {"MHz": " MHz", "GHz": " GHz", "Gb/s": " Gb/s", "µs": " µs", "ns": " ns"}

COLORS = plt.get_cmap("tab10").colors


class BadCsv(Exception):
    pass


def fail_bad(msg):
    sys.stderr.write(f"plot_sweep: {msg}\n")
    sys.exit(2)


def param_name(col):
    return col[len(PARAM_PREFIX):]


def param_unit(key):
    last = key.rsplit(".", 1)[-1]
    if last in UNIT_BY_NAME:
        return UNIT_BY_NAME[last]
    for suffix, unit in UNIT_BY_SUFFIX:
        if last.endswith(suffix):
            return unit
    return ""


def param_label(key):
    unit = param_unit(key)
    return f"{key} ({unit})" if unit else key


def short_name(key):
    """`chip.clock_mhz` -> `clock`, for legend entries."""
    last = key.rsplit(".", 1)[-1]
    for suffix, _ in UNIT_BY_SUFFIX:
        if last.endswith(suffix) and len(last) > len(suffix):
            last = last[: -len(suffix)]
            break
    return last.replace("_", " ")


def fmt_value(key, value):
    if isinstance(value, float):
        text = f"{value:g}"
    else:
        text = str(value)
    unit = param_unit(key)
    return text + SHORT_UNIT.get(unit, "")


def to_number(text):
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def read_csv(path):
    try:
        with open(path, newline="") as f:
            sample = f.read()
    except OSError as e:
        raise BadCsv(f"{path}: {e.strerror}")
    except UnicodeDecodeError:
        raise BadCsv(f"{path}: not a CSV (not UTF-8 text)")
    if "\0" in sample:
        raise BadCsv(f"{path}: not a CSV (binary data)")
    lines = sample.splitlines()
    if not lines or not lines[0].strip():
        raise BadCsv(f"{path}: empty, no header line")
    try:
        reader = csv.reader(lines, strict=True)
        header = next(reader)
        rows = list(reader)
    except csv.Error as e:
        raise BadCsv(f"{path}: not a CSV ({e})")
    header = [h.strip() for h in header]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise BadCsv(f"{path}: not a sweep results CSV: missing column(s) {', '.join(missing)}")
    params = [h for h in header if h.startswith(PARAM_PREFIX) and len(h) > len(PARAM_PREFIX)]
    if not params:
        raise BadCsv(f"{path}: no swept parameter columns (named {PARAM_PREFIX}KEY.PATH)")
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise BadCsv(f"{path}: duplicate column(s) {', '.join(dup)}")

    idx = {h: i for i, h in enumerate(header)}
    ok, failed = [], []
    encoders = set()
    for lineno, cells in enumerate(rows, start=2):
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise BadCsv(f"{path}:{lineno}: {len(cells)} fields, the header has {len(header)}")
        get = lambda col: cells[idx[col]].strip()  # noqa: E731
        status = get("status")
        if status not in ("ok", "failed"):
            raise BadCsv(f"{path}:{lineno}: status {status!r}, expected ok or failed")
        row = {"point": get("point"), "model": get("model"),
               "params": {p: get(p) for p in params}}
        if "tokens_from" in idx and get("tokens_from") == "prefill":
            encoders.add(row["model"])
        if status == "failed":
            failed.append(row)
            continue
        for col in ("tokens_per_s_per_user", "chips", "sram_used_bytes"):
            v = to_number(get(col))
            if v is None:
                raise BadCsv(f"{path}:{lineno}: {col} {get(col)!r} is not a number")
            row[col] = v
        row["sram_fraction"] = to_number(get("sram_fraction"))
        row["sram_capacity_bytes"] = to_number(get("sram_capacity_bytes")) if "sram_capacity_bytes" in idx else None
        ok.append(row)

    # An encoder's tokens/s are its prompt tokens per pass (`tokens_from` prefill): say so wherever
    # the model is named, on its failed rows too.
    for r in ok + failed:
        if r["model"] in encoders:
            r["model"] += " (prompt tokens)"

    # A parameter whose values (in the ok rows) are all numbers is numeric; otherwise categorical.
    # A failed row's value that does not fit (empty, say) becomes None and is not marked.
    kinds = {}
    for p in params:
        values = [r["params"][p] for r in ok]
        kinds[p] = "num" if values and all(to_number(v) is not None for v in values) else "cat"
        ok_values = set(values)
        for r in ok + failed:
            raw = r["params"][p]
            if kinds[p] == "num":
                n = to_number(raw)
                r["params"][p] = None if n is None else int(n) if n == int(n) and abs(n) < 2**53 else n
            elif r in failed and raw not in ok_values:
                r["params"][p] = None
    return params, kinds, ok, failed


def sort_key(v):
    return (0, v, "") if isinstance(v, (int, float)) else (1, 0, str(v))


def figure_note(fig, failed, total):
    if failed:
        # supxlabel, unlike fig.text, gets room of its own from the constrained layout.
        fig.supxlabel(f"{failed} of {total} points failed and are not drawn", fontsize=9, color="#a00000",
                      x=0.01, ha="left")


def mark_failed(ax, xs):
    """Red crosses on the bottom edge of ax at the x positions of failed points."""
    if xs:
        ax.plot(xs, [0.0] * len(xs), linestyle="none", marker="x", markersize=8, markeredgewidth=2,
                color="#c00000", transform=ax.get_xaxis_transform(), clip_on=False, zorder=5,
                label="failed (not drawn)")


def models_in_order(rows):
    """Model names in the order they first appear in the CSV (the sweep's own order)."""
    return list(dict.fromkeys(r["model"] for r in rows))


def use_log(values, ratio=8.0):
    vals = [v for v in values if isinstance(v, (int, float)) and v > 0]
    return bool(vals) and len(vals) == len(values) and max(vals) / min(vals) > ratio


def setup_x(ax, key, kind, values):
    ax.set_xlabel(param_label(key))
    if kind == "cat":
        return
    if use_log(values):
        ax.set_xscale("log", base=2 if all(isinstance(v, int) and v & (v - 1) == 0 for v in values) else 10)
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda x, _: f"{x:g}"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    if len(values) <= 12:
        ax.set_xticks(values)
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda x, _: f"{x:g}"))
        ax.xaxis.set_minor_locator(ticker.NullLocator())


def setup_y_tps(ax, values):
    ax.set_ylabel("tokens/s per user")
    if use_log(values, 30.0):
        ax.set_yscale("log")
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda y, _: f"{y:,.0f}" if y >= 10 else f"{y:g}"))
    ax.grid(True, which="major", alpha=0.3)


def xpos(kind, cats, v):
    return cats.index(v) if kind == "cat" else v


def save(fig, out_dir, stem, written):
    for ext in ("png", "svg"):
        path = os.path.join(out_dir, f"{stem}.{ext}")
        if ext == "png":
            fig.savefig(path, dpi=150, metadata={"Software": None})
        else:
            fig.savefig(path, metadata={"Date": None})
        written.append(path)
    plt.close(fig)


def file_stem(key):
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in key)


def plot_param(key, params, kinds, ok, failed, total, out_dir, written):
    kind = kinds[key]
    models = models_in_order(ok)
    n_failed = len(failed)
    others = [p for p in params if p != key and len({r["params"][p] for r in ok}) > 1]
    failed = [r for r in failed if r["params"][key] is not None]
    xs_all = sorted({r["params"][key] for r in ok + failed}, key=sort_key)
    cats = xs_all if kind == "cat" else None
    xticks = [xpos(kind, cats, v) for v in xs_all]
    name = param_name(key)

    def series(rows):
        rows = sorted(rows, key=lambda r: sort_key(r["params"][key]))
        return [xpos(kind, cats, r["params"][key]) for r in rows], [r["tokens_per_s_per_user"] for r in rows]

    def draw_line(ax, rows, label, color, marker, under=0):
        # `under` lines are drawn on top of this one: widen it (and its markers) by as many
        # steps, so that lines that coincide stay visible as nested stripes.
        xs, ys = series(rows)
        ax.plot(xs, ys, marker=marker, markersize=5 + 2.5 * under, linewidth=1.8 + 1.6 * under, color=color,
                label=label)

    def failed_xs(model=None):
        return sorted({xpos(kind, cats, r["params"][key]) for r in failed if model in (None, r["model"])})

    markers = "osD^vP*Xh<>"
    if not others:
        fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
        for i, m in enumerate(models):
            draw_line(ax, [r for r in ok if r["model"] == m], m, COLORS[i % 10], markers[i % len(markers)])
        mark_failed(ax, failed_xs())
        setup_x(ax, name, kind, xticks)
        if kind == "cat":
            ax.set_xticks(range(len(cats)), [str(c) for c in cats])
        setup_y_tps(ax, [r["tokens_per_s_per_user"] for r in ok])
        if len(models) > 6:
            ax.legend(title="model", loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=9)
        else:
            ax.legend(title="model", fontsize=9)
        fig.suptitle(f"Tokens/s per user against {name}", fontsize=13)
    else:
        combos = sorted({tuple(r["params"][p] for p in others) for r in ok},
                        key=lambda c: tuple(sort_key(v) for v in c))
        ncols = min(3, len(models))
        nrows = math.ceil(len(models) / ncols)
        # Panels, plus a last column that holds the legend (matplotlib 3.6 has no "outside"
        # legend placement for figure legends).
        fig = plt.figure(figsize=(4.6 * ncols + 2.8, 3.8 * nrows + 0.8), layout="constrained")
        grid = fig.add_gridspec(nrows, ncols + 1, width_ratios=[1] * ncols + [0.55])
        axes = [[fig.add_subplot(grid[r, c]) for c in range(ncols)] for r in range(nrows)]
        legend_ax = fig.add_subplot(grid[:, ncols])
        legend_ax.axis("off")
        cmap = plt.get_cmap("tab10" if len(combos) <= 10 else "viridis")
        for i, m in enumerate(models):
            ax = axes[i // ncols][i % ncols]
            rows_m = [r for r in ok if r["model"] == m]
            drawn = [(j, c, [r for r in rows_m if tuple(r["params"][p] for p in others) == c])
                     for j, c in enumerate(combos)]
            drawn = [(j, c, rows) for j, c, rows in drawn if rows]
            shapes = {tuple(map(tuple, series(rows))) for _, _, rows in drawn}
            for k, (j, c, rows) in enumerate(drawn):
                color = cmap(j % 10) if len(combos) <= 10 else cmap(j / max(1, len(combos) - 1))
                label = ", ".join(f"{short_name(p)} {fmt_value(p, v)}" for p, v in zip(others, c))
                # Nest coinciding lines (up to 4 deep) so that each stays visible.
                under = min(len(drawn) - 1 - k, 3) if len(shapes) < len(drawn) else 0
                draw_line(ax, rows, label, color, markers[j % len(markers)], under)
            if len(drawn) > 1 and len(shapes) == 1:
                ax.text(0.02, 0.97, f"all {len(drawn)} lines coincide", transform=ax.transAxes, ha="left", va="top",
                        fontsize=9, color="#444444")
            mark_failed(ax, failed_xs(m))
            ax.set_title(m, fontsize=12)
            setup_x(ax, name, kind, xticks)
            if kind == "cat":
                ax.set_xticks(range(len(cats)), [str(c) for c in cats])
            setup_y_tps(ax, [r["tokens_per_s_per_user"] for r in rows_m])
            if not rows_m:
                ax.text(0.5, 0.5, "every point failed", transform=ax.transAxes, ha="center", color="#a00000")
        for k in range(len(models), nrows * ncols):
            axes[k // ncols][k % ncols].set_visible(False)
        # One legend for all panels (the same colour means the same combination everywhere).
        handles = {}
        for ax in (a for row in axes for a in row):
            for h, l in zip(*ax.get_legend_handles_labels()):
                handles.setdefault(l, h)
        order = [", ".join(f"{short_name(p)} {fmt_value(p, v)}" for p, v in zip(others, c)) for c in combos]
        order = [l for l in order if l in handles] + [l for l in ("failed (not drawn)",) if l in handles]
        legend_ax.legend([handles[l] for l in order], order, loc="upper left", fontsize=9, borderaxespad=0,
                         title="other parameters", title_fontsize=9, ncols=1 if len(order) <= 16 else 2)
        per = "one panel per model" if len(models) > 1 else models[0]
        fig.suptitle(f"Tokens/s per user against {name} ({per})", fontsize=13)
    figure_note(fig, n_failed, total)
    save(fig, out_dir, f"tps_vs_{file_stem(name)}", written)


def pareto_front(points):
    """points: (cost, value, row); lower cost and higher value are better. Returns the rows on the
    front, by increasing cost."""
    front = []
    best = -math.inf
    for cost, value, row in sorted(points, key=lambda t: (t[0], -t[1])):
        if value > best:
            front.append((cost, value, row))
            best = value
    return front


def plot_pareto(ok, params, n_failed, total, out_dir, written, what):
    if what == "chips":
        cost = lambda r: r["chips"]  # noqa: E731
        xlabel, title, stem = "chips (fewer is better)", "chips", "pareto_chips"
    else:
        have_capacity = all(r.get("sram_capacity_bytes") for r in ok)
        have_fraction = all(r["sram_fraction"] and r["sram_fraction"] > 0 for r in ok)
        if have_capacity:
            cost = lambda r: r["chips"] * r["sram_capacity_bytes"]  # noqa: E731
            xlabel = "SRAM provisioned, chips × SRAM per chip (bytes; less is better)"
        elif have_fraction:
            cost = lambda r: r["sram_used_bytes"] / r["sram_fraction"]  # noqa: E731
            xlabel = "SRAM provisioned, chips × SRAM per chip (bytes; less is better)"
        else:
            cost = lambda r: r["sram_used_bytes"]  # noqa: E731
            xlabel = "SRAM used (bytes; less is better)"
        title, stem = "SRAM", "pareto_sram"
    models = models_in_order(ok)
    fig, ax = plt.subplots(figsize=(10, 6), layout="constrained")
    varying = [p for p in params if len({r["params"][p] for r in ok}) > 1]
    n_front = 0
    fronts = []
    for i, m in enumerate(models):
        pts = [(cost(r), r["tokens_per_s_per_user"], r) for r in ok if r["model"] == m]
        front = pareto_front(pts)
        on_front = {id(t[2]) for t in front}
        dominated = [t for t in pts if id(t[2]) not in on_front]
        color = COLORS[i % 10]
        if dominated:
            ax.scatter([t[0] for t in dominated], [t[1] for t in dominated], s=22, color=color, alpha=0.25,
                       edgecolors="none")
        ax.plot([t[0] for t in front], [t[1] for t in front], marker="o", markersize=7, linewidth=2,
                color=color, label=f"{m} ({len(front)} on the front, {len(dominated)} dominated)",
                drawstyle="steps-post", zorder=3)
        ax.scatter([t[0] for t in front], [t[1] for t in front], s=40, color=color, zorder=4,
                   edgecolors="black", linewidths=0.6)
        fronts.append(front)
        n_front += len(front)
    costs = [cost(r) for r in ok]
    if use_log(costs):
        ax.set_xscale("log")
    setup_y_tps(ax, [r["tokens_per_s_per_user"] for r in ok])
    annotate_front_points(ax, fronts)
    if what == "sram":
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda x, _: human_bytes(x)))
    else:
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda x, _: f"{x:g}"))
        if len(set(costs)) == 1:
            # One chip count for every point (single-chip sweeps): a unit-wide axis around it.
            ax.set_xlim(costs[0] - 1, costs[0] + 1)
            xlabel += f"; every point needs {costs[0]:g}"
    ax.set_xlabel(xlabel)
    ax.set_ylabel("tokens/s per user (higher is better)")
    if len(models) <= 4:
        # Few models: the legend fits inside, where the data leave room, and the axes keep the width.
        ax.legend(title="model: Pareto front (faint: dominated points)", loc="best", fontsize=9, title_fontsize=9,
                  framealpha=0.9)
    else:
        ax.legend(title="model: Pareto front (faint: dominated points)", loc="upper left", bbox_to_anchor=(1.02, 1),
                  borderaxespad=0, fontsize=9, title_fontsize=9)
    swept = ", ".join(param_name(p) for p in varying) or "nothing"
    fig.suptitle(f"Pareto front: tokens/s per user against {title}", fontsize=13)
    ax.set_title(f"swept: {swept}; labels: point id", fontsize=9, color="#444444")
    figure_note(fig, n_failed, total)
    save(fig, out_dir, stem, written)


def annotate_front_points(ax, fronts):
    """Labels each point on a front with its id, below and right of it (clear of the step line,
    which leaves a point rightwards); points closer than a label's size share one label."""
    ax.autoscale_view()
    placed = []  # display positions of the labels so far, and their texts
    for front in fronts:
        for c, v, r in front:
            x, y = ax.transData.transform((c, v))
            for group in placed:
                if abs(group["x"] - x) < 30 and abs(group["y"] - y) < 12:
                    group["ids"].append(r["point"])
                    break
            else:
                placed.append({"x": x, "y": y, "at": (c, v), "ids": [r["point"]]})
    for group in placed:
        ax.annotate(", ".join(f"#{i}" for i in group["ids"]), group["at"], textcoords="offset points",
                    xytext=(5, -11), fontsize=7.5, color="#333333")


def human_bytes(x):
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:g} {unit}"
    return f"{x:g} B"


def main(argv=None):
    ap = argparse.ArgumentParser(description="Plots of a sweep results CSV (PNG and SVG).")
    ap.add_argument("csv", help="results CSV from lpusim explore / lpusim merge")
    ap.add_argument("--out", metavar="DIR", help="folder for the plots (default: the CSV's folder)")
    args = ap.parse_args(argv)
    try:
        params, kinds, ok, failed = read_csv(args.csv)
    except BadCsv as e:
        fail_bad(str(e))
    total = len(ok) + len(failed)
    if failed:
        sys.stderr.write(f"plot_sweep: skipped {len(failed)} failed point(s) of {total}\n")
    if not ok:
        sys.stderr.write(f"plot_sweep: nothing to plot: {'all ' + str(total) if total else 'no'} points "
                         f"{'failed' if total else 'in the CSV'}\n")
        return 1
    out_dir = args.out or os.path.dirname(os.path.abspath(args.csv))
    os.makedirs(out_dir, exist_ok=True)
    plt.rcParams.update({"font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11, "legend.fontsize": 9,
                         "svg.hashsalt": "lpusim-plot-sweep"})
    written = []
    for p in params:
        if len({r["params"][p] for r in ok + failed}) < 2:
            continue  # a parameter the sweep holds fixed: nothing to draw against
        plot_param(p, params, kinds, ok, failed, total, out_dir, written)
    plot_pareto(ok, params, len(failed), total, out_dir, written, "chips")
    plot_pareto(ok, params, len(failed), total, out_dir, written, "sram")
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
