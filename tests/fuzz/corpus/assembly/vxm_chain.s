; vxm_chain.s: y = relu(a * b + c) over one fp32 vector, as a chain of three VXM ALUs
; that pass their results to each other on streams without touching memory.
; expect-cycles: 50
;
; fp32 takes a group of 4 streams (one byte plane each). Positions (tsp-v1): mem.w<i> = 45 - i,
; VXM = 46, mem.e<i> = 47 + i. Timing: read func 2, mul 3, add 2, relu 2, write 1, hop 1.
;   a: plane p in w<p>, read in cycle 7 - p: on s<p>e at 45 - p in 9 - p, at the VXM
;      (1 + p hops) in cycle 10.
;   b: plane p in e<p>, read in cycle 7 - p onto s<4+p>w: at the VXM in cycle 10.
;   alu0: mul in 10 -> a*b on s8e..s11e in 13.
;   c: plane p in w<4+p> (41 - p), read in cycle 6 - p onto s<12+p>e: at the VXM
;      (5 + p hops) in 6 - p + 2 + 5 + p = 13.
;   alu1: add in 13 -> a*b + c on s16e..s19e in 15.
;   alu2: relu in 15 -> y on s20e..s23e in 17.
;   y: plane p goes to e<8+p> (55 + p, 9 + p hops): written in cycle 26 + p.
; Total: last write issues in 29 and commits in 30; + 1 (cycles count from 0) + 19 = 50.
.tensor a fp32 1 w0,w1,w2,w3:0x0 fill=random:11
.tensor b fp32 1 e0,e1,e2,e3:0x0 fill=random:12
.tensor c fp32 1 w4,w5,w6,w7:0x0 fill=random:13
.tensor y fp32 1 e8,e9,e10,e11:0x0

.queue mem.w0
    nop 7
    read 0x0, s0e
.queue mem.w1
    nop 6
    read 0x0, s1e
.queue mem.w2
    nop 5
    read 0x0, s2e
.queue mem.w3
    nop 4
    read 0x0, s3e
.queue mem.e0
    nop 7
    read 0x0, s4w
.queue mem.e1
    nop 6
    read 0x0, s5w
.queue mem.e2
    nop 5
    read 0x0, s6w
.queue mem.e3
    nop 4
    read 0x0, s7w
.queue mem.w4
    nop 6
    read 0x0, s12e
.queue mem.w5
    nop 5
    read 0x0, s13e
.queue mem.w6
    nop 4
    read 0x0, s14e
.queue mem.w7
    nop 3
    read 0x0, s15e
.queue vxm.alu0
    nop 10
    mul.fp32 s8e, s0e, s4w
.queue vxm.alu1
    nop 13
    add.fp32 s16e, s8e, s12e
.queue vxm.alu2
    nop 15
    relu.fp32 s20e, s16e
.queue mem.e8
    nop 26
    write 0x0, s20e
.queue mem.e9
    nop 27
    write 0x0, s21e
.queue mem.e10
    nop 28
    write 0x0, s22e
.queue mem.e11
    nop 29
    write 0x0, s23e
