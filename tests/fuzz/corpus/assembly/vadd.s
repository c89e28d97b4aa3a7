; vadd.s: c = a + b over one int8 vector (320 lanes).
; a sits west of the VXM, b east of it; both meet at the VXM, and the sum flows east to c.
;
; Floorplan positions (tsp-v1, 44 slices per hemisphere): mem.w0 = 45, VXM = 46,
; mem.e0 = 47, mem.e1 = 48. Timing: read func 2, add func 2, write func 1, hop 1.
;   cycle 0  mem.w0 and mem.e0 issue their reads; a is on s0e at 45, b on s1w at 47 in cycle 2
;   cycle 3  both arrive at the VXM (one hop each); alu0 issues the add
;   cycle 5  the sum is on s2e at 46; it reaches mem.e1 (two hops) in cycle 7
;   cycle 7  mem.e1 issues the write; it commits in cycle 8 on superlane 0
; Total: 8 + 1 (cycles count from 0) + 19 (superlanes 1..19 trail by one cycle each) = 28.
; expect-cycles: 28
.tensor a int8 1 w0:0x0 fill=ramp:0:1
.tensor b int8 1 e0:0x0 fill=const:3
.tensor c int8 1 e1:0x0

.queue mem.w0
    read 0x0, s0e
.queue mem.e0
    read 0x0, s1w
.queue vxm.alu0
    nop 3
    add.int8 s2e, s0e, s1w
.queue mem.e1
    nop 7
    write 0x0, s2e
