; softmax.s: y = exp(x) / sum(exp(x)) over one fp32 vector of 320 lanes.
; expect-cycles: 851
;
; exp(x) = exp2(x * log2 e). The sum is a rotate-and-add tree: the VXM sends s east to the SXM, which
; rotates it and sends it back; s itself waits in MEM (e0..e3, next to the VXM) and is read back to meet
; the rotated copy. Rotations by 160, 80, 40, 20, 10, 5 leave in each lane the sum of the lanes congruent
; to it mod 5; four rotations of that (1..4) and three adds give the total in every lane. 1/sum is
; rsqrt(sum)^2 (the VXM has no divide). A rotation moving data from a later superlane to an earlier one
; waits for it: superlane k runs k cycles behind superlane 0.
; Timing: read 2, mul 3, exp2 5, add 2, rsqrt 6, rotate 3 (+ superlane wait), write 1.
;   x arrives at the VXM in 10; x * log2 e in 13; exp2 puts e on s8e..s11e in 18; e is
;     written to e4..e7 as it passes (and to e0..e3 as the first partial sum) and reaches the SXM in 63.
;   rotate by 160: s at the SXM in 63, rotated (+10 superlane wait) back at the VXM in 121,
;     added to s read back from e0..e3: the new s on s12e in 123.
;   rotate by 80: s at the SXM in 168, rotated (+15 superlane wait) back at the VXM in 231,
;     added to s read back from e0..e3: the new s on s12e in 233.
;   rotate by 40: s at the SXM in 278, rotated (+18 superlane wait) back at the VXM in 344,
;     added to s read back from e0..e3: the new s on s12e in 346.
;   rotate by 20: s at the SXM in 391, rotated (+19 superlane wait) back at the VXM in 458,
;     added to s read back from e0..e3: the new s on s12e in 460.
;   rotate by 10: s at the SXM in 505, rotated (+19 superlane wait) back at the VXM in 572,
;     added to s read back from e0..e3: the new s on s12e in 574.
;   rotate by 5: s at the SXM in 619, rotated (+19 superlane wait) back at the VXM in 686,
;     added to s read back from e0..e3: the new s on s12e in 688.
;   the period-5 sums reach the SXM in 733; rotations by 1..4 (each +19) are back in 800;
;     (r1 + r2) + (r3 + r4) + s gives the total in every lane in 806;
;   rsqrt in 806, squared in 812: 1/sum in 815; times e (read back from e4..e7): y in 818;
;   plane b of y is written to e<8+b> in 818 + 9 + b.
; Total: the last write commits in 830; + 20 = 851.
.tensor x fp32 1 w0,w1,w2,w3:0x0 fill=random:77
.tensor partial fp32 1 e0,e1,e2,e3:0x0
.tensor e fp32 1 e4,e5,e6,e7:0x0
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

.queue vxm.alu0
    nop 10
    mul.fp32 s4e, s0e, #1.4426950408889634

.queue vxm.alu1
    nop 13
    exp2.fp32 s8e, s4e

.queue mem.e4
    nop 23
    write 0x0, s8e
    nop 784
    read 0x0, s24w

.queue mem.e5
    nop 24
    write 0x0, s9e
    nop 782
    read 0x0, s25w

.queue mem.e6
    nop 25
    write 0x0, s10e
    nop 780
    read 0x0, s26w

.queue mem.e7
    nop 26
    write 0x0, s11e
    nop 778
    read 0x0, s27w

.queue mem.e0
    nop 19
    write 0x0, s8e
    nop 98
    read 0x0, s20w
    nop 5
    write 0x0, s12e
    nop 103
    read 0x0, s20w
    nop 5
    write 0x0, s12e
    nop 106
    read 0x0, s20w
    nop 5
    write 0x0, s12e
    nop 107
    read 0x0, s20w
    nop 5
    write 0x0, s12e
    nop 107
    read 0x0, s20w
    nop 5
    write 0x0, s12e
    nop 107
    read 0x0, s20w
    nop 5
    write 0x0, s12e
    nop 111
    read 0x0, s20w

.queue mem.e1
    nop 20
    write 0x0, s9e
    nop 96
    read 0x0, s21w
    nop 7
    write 0x0, s13e
    nop 101
    read 0x0, s21w
    nop 7
    write 0x0, s13e
    nop 104
    read 0x0, s21w
    nop 7
    write 0x0, s13e
    nop 105
    read 0x0, s21w
    nop 7
    write 0x0, s13e
    nop 105
    read 0x0, s21w
    nop 7
    write 0x0, s13e
    nop 105
    read 0x0, s21w
    nop 7
    write 0x0, s13e
    nop 109
    read 0x0, s21w

.queue mem.e2
    nop 21
    write 0x0, s10e
    nop 94
    read 0x0, s22w
    nop 9
    write 0x0, s14e
    nop 99
    read 0x0, s22w
    nop 9
    write 0x0, s14e
    nop 102
    read 0x0, s22w
    nop 9
    write 0x0, s14e
    nop 103
    read 0x0, s22w
    nop 9
    write 0x0, s14e
    nop 103
    read 0x0, s22w
    nop 9
    write 0x0, s14e
    nop 103
    read 0x0, s22w
    nop 9
    write 0x0, s14e
    nop 107
    read 0x0, s22w

.queue mem.e3
    nop 22
    write 0x0, s11e
    nop 92
    read 0x0, s23w
    nop 11
    write 0x0, s15e
    nop 97
    read 0x0, s23w
    nop 11
    write 0x0, s15e
    nop 100
    read 0x0, s23w
    nop 11
    write 0x0, s15e
    nop 101
    read 0x0, s23w
    nop 11
    write 0x0, s15e
    nop 101
    read 0x0, s23w
    nop 11
    write 0x0, s15e
    nop 101
    read 0x0, s23w
    nop 11
    write 0x0, s15e
    nop 105
    read 0x0, s23w

.queue sxm.e0
    nop 63
    rotate.fp32 s0w, s8e, 160
    nop 104
    rotate.fp32 s0w, s12e, 80
    nop 109
    rotate.fp32 s0w, s12e, 40
    nop 112
    rotate.fp32 s0w, s12e, 20
    nop 113
    rotate.fp32 s0w, s12e, 10
    nop 113
    rotate.fp32 s0w, s12e, 5

.queue vxm.alu10
    nop 121
    add.fp32 s12e, s0w, s20w
    nop 109
    add.fp32 s12e, s0w, s20w
    nop 112
    add.fp32 s12e, s0w, s20w
    nop 113
    add.fp32 s12e, s0w, s20w
    nop 113
    add.fp32 s12e, s0w, s20w
    nop 113
    add.fp32 s12e, s0w, s20w

.queue sxm.e1
    nop 733
    rotate.fp32 s0w, s12e, 1

.queue sxm.e2
    nop 733
    rotate.fp32 s4w, s12e, 2

.queue sxm.e3
    nop 733
    rotate.fp32 s8w, s12e, 3

.queue sxm.e4
    nop 733
    rotate.fp32 s12w, s12e, 4

.queue vxm.alu2
    nop 800
    add.fp32 s16e, s0w, s4w

.queue vxm.alu3
    nop 800
    add.fp32 s20e, s8w, s12w

.queue vxm.alu4
    nop 802
    add.fp32 s24e, s16e, s20e

.queue vxm.alu5
    nop 804
    add.fp32 s28e, s24e, s20w

.queue vxm.alu6
    nop 806
    rsqrt.fp32 s16e, s28e

.queue vxm.alu7
    nop 812
    mul.fp32 s20e, s16e, s16e

.queue vxm.alu8
    nop 815
    mul.fp32 s24e, s24w, s20e

.queue mem.e8
    nop 827
    write 0x0, s24e

.queue mem.e9
    nop 828
    write 0x0, s25e

.queue mem.e10
    nop 829
    write 0x0, s26e

.queue mem.e11
    nop 830
    write 0x0, s27e
