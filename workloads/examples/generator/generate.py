#!/usr/bin/env python3
"""Writes the hand-derived example programs of workloads/examples/ that are too long to
type: every issue cycle is derived here from the floorplan and the timing fields of
models/chips/tsp-v1.json, and the derivation is written into each file's comments.

    python3 workloads/examples/generator/generate.py
"""
import os

from tsp import Chip, Program

OUT = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))
chip = Chip()
READ, WRITE = chip.func("mem.read"), chip.func("mem.write")
TAIL = 1 + (chip.superlanes - 1) * chip.skew  # cycles count from 0, plus trailing superlanes


def read_arriving(p, slice_, address, stream, dest, arrive, repeat=None, comment=None):
    """Issues a read in `slice_` so its word is at `dest` in cycle `arrive`."""
    issue = arrive - READ - chip.hops(slice_, dest)
    p.at(f"mem.{slice_}", issue, f"read {address}, {stream}", repeat=repeat, comment=comment)
    return issue


def write_arriving(p, slice_, address, stream, source, leaves, repeat=None):
    """Writes in `slice_` the vector that is at `source` in cycle `leaves`."""
    issue = leaves + chip.hops(slice_, source)
    p.at(f"mem.{slice_}", issue, f"write {address}, {stream}", repeat=repeat, effect=issue + WRITE + (repeat[0] * repeat[1] if repeat else 0))
    return issue


def gemv320():
    LW, IW, ABC, ACC = (chip.func(k) for k in ("mxm.lw", "mxm.iw", "mxm.abc", "mxm.acc"))
    p = Program("gemv320.s: y = W x, int8 W (320 x 320) and x (320) -> int32 y, on plane 0 of the west MXM.")
    first_lw = READ + chip.hops("w0", "mxm.w")
    install = first_lw + 20
    abc = install + IW
    acc = abc + ABC
    out = acc + ACC
    p.note("")
    p.note("W's 320 rows are spread over 16 slices so that one lw takes 16 rows a cycle: row 16t + k is")
    p.note("vector t of tensor w<k>, in slice w<k>. Positions (tsp-v1): mem.w<i> = 45 - i, MXM west = 0.")
    p.note(f"Timing: read {READ}, lw {LW}, iw {IW}, abc {ABC}, acc {ACC}, write {WRITE}, hop {chip.hop}.")
    p.note(f"  slice w<k> reads vector t in cycle k + t onto s<k>w: at position 45 - k in k + t + {READ},")
    p.note(f"    at the MXM (45 - k hops) in t + {first_lw}: all 16 rows of group t arrive together;")
    p.note(f"  mxm.w0: lw.int8 s0w, 16 in cycles {first_lw}..{first_lw + 19} (rows 16t..16t+15), iw in {install};")
    p.note(f"    the weights are installed in {install} + {IW} = {abc};")
    p.note(f"  x is in w16 (position 29), read in {abc} - {READ} - 29 = {abc - READ - 29} onto s16w: at the MXM in {abc};")
    p.note(f"  mxm.w1: abc.int8 s16w in {abc}; the product is in accumulator slot 0 in {abc} + {ABC} = {acc};")
    p.note(f"  mxm.w2: acc.int32 s0e in {acc}; y's 4 byte planes are on s0e..s3e at position 0 in {out};")
    p.note(f"  plane b of y goes to w<20+b> (position 25 - b): written in {out} + 25 - b.")
    for k in range(16):
        p.tensor(f".tensor w{k} int8 20 w{k}:0x0 fill=random:{100 + k}")
        p.at(f"mem.w{k}", k, f"read 0x0, s{k}w", repeat=(19, 1, 1))
    p.tensor(".tensor x int8 1 w16:0x0 fill=random:99")
    p.tensor(".tensor y int32 1 w20,w21,w22,w23:0x0")
    p.at("mxm.w0", first_lw, "lw.int8 s0w, 16", repeat=(19, 1))
    p.at("mxm.w0", install, "iw")
    read_arriving(p, "w16", "0x0", "s16w", "mxm.w", abc)
    p.at("mxm.w1", abc, "abc.int8 s16w")
    p.at("mxm.w2", acc, "acc.int32 s0e")
    for b in range(4):
        write_arriving(p, f"w{20 + b}", "0x0", f"s{b}e", "mxm.w", out)
    total = p.last_effect + TAIL
    p.note(f"Total: the last write (w20) issues in {out + 25} and commits in {out + 25 + WRITE}; + {TAIL} = {total}.")
    return p.emit(chip, os.path.join(OUT, "gemv320.s"), total)


def transpose16():
    TR = chip.func("sxm.transpose")
    p = Program("transpose16.s: a 16 x 16 int8 transpose on the east SXM, over 16 streams.")
    arrive = READ + chip.hops("e0", "sxm.e") 
    out = arrive + TR
    p.note("")
    p.note("Input vector k (16 of them) is in slice e<k>; within each 16-lane superlane, output stream j,")
    p.note("lane l holds input vector l's lane j. Positions: mem.e<i> = 47 + i, SXM east = 91.")
    p.note(f"Timing: read {READ}, transpose {TR}, write {WRITE}, hop {chip.hop}.")
    p.note(f"  e<k> reads in cycle k onto s<k>e: at 47 + k in k + {READ}, at the SXM (44 - k hops) in {arrive};")
    p.note(f"  sxm.e0: transpose.int8 s16w, s0e in {arrive}: the result is on s16w..s31w at 91 in {out};")
    p.note(f"  stream 16 + j goes to e<16+j> (position 63 + j, 28 - j hops): written in {out} + 28 - j.")
    for k in range(16):
        p.tensor(f".tensor in{k} int8 1 e{k}:0x0 fill=random:{200 + k}")
        read_arriving(p, f"e{k}", "0x0", f"s{k}e", "sxm.e", arrive)
    for j in range(16):
        p.tensor(f".tensor out{j} int8 1 e{16 + j}:0x0")
        write_arriving(p, f"e{16 + j}", "0x0", f"s{16 + j}w", "sxm.e", out)
    p.at("sxm.e0", arrive, "transpose.int8 s16w, s0e")
    total = p.last_effect + TAIL
    p.note(f"Total: the last write (e16) issues in {out + 28} and commits in {out + 28 + WRITE}; + {TAIL} = {total}.")
    return p.emit(chip, os.path.join(OUT, "transpose16.s"), total)


def gemv1024x512():
    """y (512) = W (512 x 1024) x (1024), int8 -> int32, on all four MXM planes."""
    IW, ABC, ACC, ADD = (chip.func(k) for k in ("mxm.iw", "mxm.abc", "mxm.acc", "vxm.add"))
    p = Program("gemv1024x512.s: y = W x with int8 W (512 x 1024), x (1024) -> int32 y (512), on all four MXM planes.")
    rows_per_lw = 8
    lw_start = READ + chip.hops("w0", "mxm.w")
    p.note("")
    p.note("W is cut into blocks of 320 outputs x 320 inputs: output tiles 0 (rows 0..319) and 1 (rows 320..511),")
    p.note("input tiles K0..K3 (columns 0..319, 320..639, 640..959, 960..1023 in lanes 0..63 with zeros above).")
    p.note("The west MXM computes output tile 0, the east MXM tile 1; in each, plane 0 takes K0 then K1 and plane 1")
    p.note("K2 then K3, and the VXM adds the two planes' partial sums. Weights stream from 16 MEM slices per")
    p.note("hemisphere (8 per plane, one row each per cycle: lw.int8 s, 8), x tiles from 4 more slices.")
    p.note(f"Timing: read {READ}, iw {IW}, abc {ABC}, acc {ACC}, add {ADD}, write {WRITE}, hop {chip.hop}.")
    total_effect = 0
    for side, mxm, far in (("w", "mxm.w", "e"), ("e", "mxm.e", "w")):
        tile_rows = 320 if side == "w" else 192
        lws = tile_rows // rows_per_lw
        d = "w" if side == "w" else "e"   # weights and x travel towards the MXM
        r = "e" if side == "w" else "w"   # results travel back towards the VXM
        lw_a = lw_start
        iw_a = lw_a + lws               # the weights queue issues iw A between the two blocks
        lw_b = iw_a + 1
        abc_a = iw_a + IW
        iw_b = max(abc_a + ABC, lw_b + lws)  # the array is busy until abc A's result lands
        abc_b = iw_b + IW
        acc = abc_b + ABC
        out = acc + ACC
        at_vxm = out + chip.hops(mxm, "vxm")
        y_at = at_vxm + ADD
        p.note(f"{'West' if side == 'w' else 'East'} hemisphere (output tile {0 if side == 'w' else 1}, {tile_rows} rows = {lws} lw of 8 rows a block):")
        p.note(f"  slice {side}<k> of plane 0 (k = 0..7) and {side}<8+k> of plane 1 read row 8t + k of block A (word t),")
        p.note(f"    timed to reach the MXM in {lw_a} + t on s<k>{d} and s<8+k>{d}, then block B (word {lws} + t) one cycle later;")
        p.note(f"  lw A in {lw_a}..{iw_a - 1}, iw A in {iw_a} (installed {abc_a}), lw B in {lw_b}..{lw_b + lws - 1};")
        p.note(f"  abc A in {abc_a} (result {abc_a + ABC}); iw B waits for it: {iw_b} (installed {abc_b}); abc B in {abc_b};")
        p.note(f"  acc in {acc}: partial sums on s0{r} (plane 0) and s4{r} (plane 1) at the MXM in {out}, at the VXM in {at_vxm};")
        p.note(f"  the VXM adds them: y on s8{r} in {y_at}, written to {far}36..{far}39 ({37} + b hops) in {y_at} + 37 + b.")
        for plane in range(2):
            q = 3 * plane
            for k in range(8):
                slice_ = f"{side}{8 * plane + k}"
                seed = 1000 + (0 if side == "w" else 100) + 10 * plane + k
                lanes = ":64" if plane == 1 else ""
                # Block A rows are words 0..lws-1, block B rows words lws..2*lws-1; plane 1's block B is K3 (64 lanes).
                p.tensor(f".tensor w{side}{plane}a{k} int8 {lws} {slice_}:0x0 fill=random:{seed}")
                p.tensor(f".tensor w{side}{plane}b{k} int8 {lws} {slice_}:{lws} fill=random:{seed + 500}{lanes}")
                for start, word in ((lw_a, 0), (lw_b, lws)):
                    issue = start - READ - chip.hops(slice_, mxm)
                    p.at(f"mem.{slice_}", issue, f"read {word}, s{8 * plane + k}{d}", repeat=(lws - 1, 1, 1))
            p.at(f"mxm.{side}{q}", lw_a, f"lw.int8 s{8 * plane}{d}, {rows_per_lw}", repeat=(lws - 1, 1))
            p.at(f"mxm.{side}{q}", iw_a, "iw")
            p.at(f"mxm.{side}{q}", lw_b, f"lw.int8 s{8 * plane}{d}, {rows_per_lw}", repeat=(lws - 1, 1))
            p.at(f"mxm.{side}{q}", iw_b, "iw")
            for block, when in ((0, abc_a), (1, abc_b)):
                tile = 2 * plane + block
                x_slice = f"{side}{16 + tile}"
                read_arriving(p, x_slice, "0x0", f"s{16 + tile}{d}", mxm, when)
                p.at(f"mxm.{side}{q + 1}", when, f"abc.int8 s{16 + tile}{d}")
            p.at(f"mxm.{side}{q + 2}", acc, f"acc.int32 s{4 * plane}{r}")
        for tile in range(4):
            p.tensor(f".tensor x{side}{tile} int8 1 {side}{16 + tile}:0x0 fill=random:{900 + tile}{':64' if tile == 3 else ''}")
        alu = 0 if side == "w" else 1
        p.at(f"vxm.alu{alu}", at_vxm, f"add.int32 s8{r}, s0{r}, s4{r}")
        p.tensor(f".tensor y{0 if side == 'w' else 1} int32 1 {far}36,{far}37,{far}38,{far}39:0x0")
        for b in range(4):
            write_arriving(p, f"{far}{36 + b}", "0x0", f"s{8 + b}{r}", "vxm", y_at)
    total = p.last_effect + TAIL
    p.note(f"Total: the last write commits in {p.last_effect - 1}; + {TAIL} = {total}.")
    return p.emit(chip, os.path.join(OUT, "gemv1024x512.s"), total)


def softmax():
    """softmax over one fp32 vector: exp from exp2, the sum by rotate-and-add through the SXM, 1/sum by rsqrt."""
    MUL, EXP2, ADD, RSQRT, ROT = (chip.func(k) for k in ("vxm.mul", "vxm.exp2", "vxm.add", "vxm.rsqrt", "sxm.rotate"))
    p = Program("softmax.s: y = exp(x) / sum(exp(x)) over one fp32 vector of 320 lanes.")
    p.note("")
    p.note("exp(x) = exp2(x * log2 e). The sum is a rotate-and-add tree: the VXM sends s east to the SXM, which")
    p.note("rotates it and sends it back; s itself waits in MEM (e0..e3, next to the VXM) and is read back to meet")
    p.note("the rotated copy. Rotations by 160, 80, 40, 20, 10, 5 leave in each lane the sum of the lanes congruent")
    p.note("to it mod 5; four rotations of that (1..4) and three adds give the total in every lane. 1/sum is")
    p.note("rsqrt(sum)^2 (the VXM has no divide). A rotation moving data from a later superlane to an earlier one")
    p.note("waits for it: superlane k runs k cycles behind superlane 0.")
    p.note(f"Timing: read {READ}, mul {MUL}, exp2 {EXP2}, add {ADD}, rsqrt {RSQRT}, rotate {ROT} (+ superlane wait), write {WRITE}.")
    p.tensor(".tensor x fp32 1 w0,w1,w2,w3:0x0 fill=random:77")
    p.tensor(".tensor partial fp32 1 e0,e1,e2,e3:0x0")
    p.tensor(".tensor e fp32 1 e4,e5,e6,e7:0x0")
    p.tensor(".tensor y fp32 1 e8,e9,e10,e11:0x0")
    t = 10
    for b in range(4):
        read_arriving(p, f"w{b}", "0x0", f"s{b}e", "vxm", t)
    p.at("vxm.alu0", t, "mul.fp32 s4e, s0e, #1.4426950408889634")
    p.at("vxm.alu1", t + MUL, "exp2.fp32 s8e, s4e")
    t_e = t + MUL + EXP2
    p.note(f"  x arrives at the VXM in {t}; x * log2 e in {t + MUL}; exp2 puts e on s8e..s11e in {t_e}; e is")
    p.note(f"    written to e4..e7 as it passes (and to e0..e3 as the first partial sum) and reaches the SXM in {t_e + 45}.")
    for b in range(4):
        write_arriving(p, f"e{4 + b}", "0x0", f"s{8 + b}e", "vxm", t_e)
    s_stream, s_at = "s8e", t_e
    sxm_queue = 0
    for k in (160, 80, 40, 20, 10, 5):
        for b in range(4):
            write_arriving(p, f"e{b}", "0x0", f"s{int(s_stream[1:-1]) + b}e", "vxm", s_at)
        at_sxm = s_at + chip.hops("vxm", "sxm.e")
        wait = chip.rotate_wait(k)
        back = at_sxm + ROT + wait + chip.hops("sxm.e", "vxm")
        p.at(f"sxm.e{sxm_queue}", at_sxm, f"rotate.fp32 s0w, {s_stream}, {k}")
        for b in range(4):
            read_arriving(p, f"e{b}", "0x0", f"s{20 + b}w", "vxm", back)
        p.at("vxm.alu10", back, "add.fp32 s12e, s0w, s20w")
        p.note(f"  rotate by {k}: s at the SXM in {at_sxm}, rotated (+{wait} superlane wait) back at the VXM in {back},")
        p.note(f"    added to s read back from e0..e3: the new s on s12e in {back + ADD}.")
        s_stream, s_at = "s12e", back + ADD
    for b in range(4):
        write_arriving(p, f"e{b}", "0x0", f"s{12 + b}e", "vxm", s_at)
    at_sxm = s_at + chip.hops("vxm", "sxm.e")
    wait = max(chip.rotate_wait(m) for m in range(1, 5))
    back = at_sxm + ROT + wait + chip.hops("sxm.e", "vxm")
    for m in range(1, 5):
        assert chip.rotate_wait(m) == wait
        p.at(f"sxm.e{m}", at_sxm, f"rotate.fp32 s{4 * (m - 1)}w, s12e, {m}")
    p.at("vxm.alu2", back, "add.fp32 s16e, s0w, s4w")
    p.at("vxm.alu3", back, "add.fp32 s20e, s8w, s12w")
    p.at("vxm.alu4", back + ADD, "add.fp32 s24e, s16e, s20e")
    for b in range(4):
        read_arriving(p, f"e{b}", "0x0", f"s{20 + b}w", "vxm", back + 2 * ADD)
    p.at("vxm.alu5", back + 2 * ADD, "add.fp32 s28e, s24e, s20w")
    total_at = back + 3 * ADD
    p.at("vxm.alu6", total_at, "rsqrt.fp32 s16e, s28e")
    p.at("vxm.alu7", total_at + RSQRT, "mul.fp32 s20e, s16e, s16e")
    inv_at = total_at + RSQRT + MUL
    for b in range(4):
        read_arriving(p, f"e{4 + b}", "0x0", f"s{24 + b}w", "vxm", inv_at)
    p.at("vxm.alu8", inv_at, "mul.fp32 s24e, s24w, s20e")
    y_at = inv_at + MUL
    for b in range(4):
        write_arriving(p, f"e{8 + b}", "0x0", f"s{24 + b}e", "vxm", y_at)
    p.note(f"  the period-5 sums reach the SXM in {at_sxm}; rotations by 1..4 (each +{wait}) are back in {back};")
    p.note(f"    (r1 + r2) + (r3 + r4) + s gives the total in every lane in {total_at};")
    p.note(f"  rsqrt in {total_at}, squared in {total_at + RSQRT}: 1/sum in {inv_at}; times e (read back from e4..e7): y in {y_at};")
    p.note(f"  plane b of y is written to e<8+b> in {y_at} + 9 + b.")
    total = p.last_effect + TAIL
    p.note(f"Total: the last write commits in {p.last_effect - 1}; + {TAIL} = {total}.")
    return p.emit(chip, os.path.join(OUT, "softmax.s"), total)


if __name__ == "__main__":
    for make in (gemv320, transpose16, gemv1024x512, softmax):
        print(make.__name__, make())
