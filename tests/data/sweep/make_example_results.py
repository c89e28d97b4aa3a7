#!/usr/bin/env python3
"""Writes example_results.csv beside this file: a SYNTHETIC sweep result (not simulator output)
in the format of `lpusim explore` / `lpusim merge` (the columns plot_sweep.py draws; docs/sweeps.md lists them all), for testing tools/plot_sweep.py. The numbers
come from a crude bandwidth-plus-hop-latency formula, only so that the plots have a plausible shape
(more SRAM per chip: fewer chips, fewer tokens/s per user)."""
import csv
import itertools
import math
import os

MODELS = {  # name: (weight bytes, layers, KV-cache bytes per user for a 2048-token context)
    "gpt2": (0.25e9, 12, 2048 * 12 * 2 * 768 * 2),
    "llama-2-7b": (13.5e9, 32, 2048 * 32 * 2 * 4096 * 2),
    "llama-2-70b": (138e9, 80, 2048 * 80 * 2 * 1024 * 2),
}
WORDS = [2048, 4096, 8192, 16384, 32768]
CLOCKS = [900, 1200]
BATCHES = [1, 8]
MAX_CHIPS = 1024
SLICES, WORD_BYTES = 88, 320

COLUMNS = ["point", "model", "param:chip.mem.words_per_slice", "param:chip.clock_mhz", "param:scenario.batch",
           "status", "reason", "tokens_per_s_per_user", "aggregate_tokens_per_s", "ttft_us", "decode_cycles",
           "chips", "sram_used_bytes", "sram_fraction", "mxm_utilization"]


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "example_results.csv")
    rows = []
    point = 0
    for model, words, clock, batch in itertools.product(MODELS, WORDS, CLOCKS, BATCHES):
        weights, layers, kv = MODELS[model]
        sram_chip = SLICES * words * WORD_BYTES
        used = weights + batch * kv
        chips = math.ceil(used / (0.85 * sram_chip))
        row = {"point": point, "model": model, "param:chip.mem.words_per_slice": words,
               "param:chip.clock_mhz": clock, "param:scenario.batch": batch}
        point += 1
        if chips > MAX_CHIPS:
            row.update(status="failed", reason=f"needs {chips} chips, more than the {MAX_CHIPS}-chip limit")
            rows.append(row)
            continue
        bytes_per_us = SLICES * WORD_BYTES * clock  # one chip's SRAM read bandwidth
        t_us = (weights + batch * kv / 2) / (chips * bytes_per_us) + (chips - 1) * 216 / clock \
            + layers * 1.5 * 900 / clock
        row.update(status="ok", reason="", tokens_per_s_per_user=f"{1e6 / t_us:.1f}",
                   aggregate_tokens_per_s=f"{batch * 1e6 / t_us * 0.97 ** (batch - 1):.1f}",
                   ttft_us=f"{t_us * 24:.1f}", decode_cycles=round(t_us * clock), chips=chips,
                   sram_used_bytes=round(used), sram_fraction=f"{used / (chips * sram_chip):.4f}",
                   mxm_utilization=f"{min(0.9, 0.05 * batch ** 0.5 * (1 + point % 3) / 2 + 0.1):.3f}")
        rows.append(row)
    with open(out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(out)


if __name__ == "__main__":
    main()
