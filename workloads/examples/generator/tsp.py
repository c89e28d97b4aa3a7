"""A tiny schedule builder for hand-derived example programs.

It places each instruction at the exact cycle the author derives, emits `nop`s between
them, and keeps the derivation as comments. Positions and timing fields come from the
chip configuration, so the examples follow models/chips/tsp-v1.json. The simulator's
schedule checker is what proves each generated program right.
"""
import json
import os

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


class Chip:
    def __init__(self, path=os.path.join(ROOT, "models", "chips", "tsp-v1.json")):
        c = json.load(open(path))
        self.n = c["mem"]["slices_per_hemisphere"]
        self.hop = c["streams"]["hop_cycles"]
        self.superlanes = c["lanes"]["superlanes"]
        self.width = c["lanes"]["lanes_per_superlane"]
        self.lanes = self.superlanes * self.width
        self.skew = c["lanes"]["superlane_skew_cycles"]
        self.timing = {k: (v["skew_cycles"], v["func_cycles"]) for k, v in c["timing"].items()}

    def func(self, op):
        return self.timing[op][1]

    def pos(self, unit):
        """Position of 'w12' / 'e3' (MEM slices), 'vxm', 'mxm.w', 'mxm.e', 'sxm.w', 'sxm.e'."""
        n = self.n
        table = {"vxm": n + 2, "mxm.w": 0, "sxm.w": 1, "sxm.e": 2 * n + 3, "mxm.e": 2 * n + 4}
        if unit in table:
            return table[unit]
        side, index = unit[0], int(unit[1:])
        return 1 + n - index if side == "w" else n + 3 + index

    def hops(self, a, b):
        return abs(self.pos(a) - self.pos(b)) * self.hop

    def cross_superlane_wait(self, source_of_lane):
        worst = 0
        for lane, src in enumerate(source_of_lane):
            worst = max(worst, src // self.width - lane // self.width)
        return worst * self.skew

    def rotate_wait(self, k):
        return self.cross_superlane_wait([(i - k) % self.lanes for i in range(self.lanes)])


class Program:
    def __init__(self, title):
        self.header = [title]
        self.tensors = []
        self.queues = {}
        self.last_effect = 0

    def note(self, text=""):
        self.header.append(text)

    def tensor(self, line):
        self.tensors.append(line)

    def at(self, queue, cycle, text, repeat=None, comment=None, effect=None):
        """Issues `text` on `queue` in `cycle`; repeat = (n, d[, stride]). `effect` is the
        cycle its last result lands (for the expected total)."""
        assert cycle >= 0, (queue, cycle, text)
        self.queues.setdefault(queue, []).append((cycle, text, repeat, comment))
        if effect is not None:
            self.last_effect = max(self.last_effect, effect)

    def emit(self, chip, path, expect_cycles):
        lines = ["; " + h if h else ";" for h in self.header]
        lines.insert(1, f"; expect-cycles: {expect_cycles}")
        lines += self.tensors
        for name in self.queues:
            items = sorted(self.queues[name], key=lambda i: i[0])
            lines.append("")
            lines.append(f".queue {name}")
            cursor = 0
            for cycle, text, repeat, comment in items:
                assert cycle >= cursor, f"{name}: cycle {cycle} before the queue is free ({cursor}): {text}"
                if cycle > cursor:
                    lines.append(f"    nop {cycle - cursor}")
                line = f"    {text}"
                if comment:
                    line = line.ljust(32) + " ; " + comment
                lines.append(line)
                cursor = cycle + 1
                if repeat:
                    n, d = repeat[0], repeat[1]
                    lines.append(f"    repeat {n}, {d}" + (f", {repeat[2]}" if len(repeat) > 2 else ""))
                    cursor = cycle + n * d + 1
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return expect_cycles
