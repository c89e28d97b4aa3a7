; gemv1024x512.s: y = W x with int8 W (512 x 1024), x (1024) -> int32 y (512), on all four MXM planes.
; expect-cycles: 279
;
; W is cut into blocks of 320 outputs x 320 inputs: output tiles 0 (rows 0..319) and 1 (rows 320..511),
; input tiles K0..K3 (columns 0..319, 320..639, 640..959, 960..1023 in lanes 0..63 with zeros above).
; The west MXM computes output tile 0, the east MXM tile 1; in each, plane 0 takes K0 then K1 and plane 1
; K2 then K3, and the VXM adds the two planes' partial sums. Weights stream from 16 MEM slices per
; hemisphere (8 per plane, one row each per cycle: lw.int8 s, 8), x tiles from 4 more slices.
; Timing: read 2, iw 20, abc 20, acc 2, add 2, write 1, hop 1.
; West hemisphere (output tile 0, 320 rows = 40 lw of 8 rows a block):
;   slice w<k> of plane 0 (k = 0..7) and w<8+k> of plane 1 read row 8t + k of block A (word t),
;     timed to reach the MXM in 47 + t on s<k>w and s<8+k>w, then block B (word 40 + t) one cycle later;
;   lw A in 47..86, iw A in 87 (installed 107), lw B in 88..127;
;   abc A in 107 (result 127); iw B waits for it: 128 (installed 148); abc B in 148;
;   acc in 168: partial sums on s0e (plane 0) and s4e (plane 1) at the MXM in 170, at the VXM in 216;
;   the VXM adds them: y on s8e in 218, written to e36..e39 (37 + b hops) in 218 + 37 + b.
; East hemisphere (output tile 1, 192 rows = 24 lw of 8 rows a block):
;   slice e<k> of plane 0 (k = 0..7) and e<8+k> of plane 1 read row 8t + k of block A (word t),
;     timed to reach the MXM in 47 + t on s<k>e and s<8+k>e, then block B (word 24 + t) one cycle later;
;   lw A in 47..70, iw A in 71 (installed 91), lw B in 72..95;
;   abc A in 91 (result 111); iw B waits for it: 111 (installed 131); abc B in 131;
;   acc in 151: partial sums on s0w (plane 0) and s4w (plane 1) at the MXM in 153, at the VXM in 199;
;   the VXM adds them: y on s8w in 201, written to w36..w39 (37 + b hops) in 201 + 37 + b.
; Total: the last write commits in 258; + 20 = 279.
.tensor ww0a0 int8 40 w0:0x0 fill=random:1000
.tensor ww0b0 int8 40 w0:40 fill=random:1500
.tensor ww0a1 int8 40 w1:0x0 fill=random:1001
.tensor ww0b1 int8 40 w1:40 fill=random:1501
.tensor ww0a2 int8 40 w2:0x0 fill=random:1002
.tensor ww0b2 int8 40 w2:40 fill=random:1502
.tensor ww0a3 int8 40 w3:0x0 fill=random:1003
.tensor ww0b3 int8 40 w3:40 fill=random:1503
.tensor ww0a4 int8 40 w4:0x0 fill=random:1004
.tensor ww0b4 int8 40 w4:40 fill=random:1504
.tensor ww0a5 int8 40 w5:0x0 fill=random:1005
.tensor ww0b5 int8 40 w5:40 fill=random:1505
.tensor ww0a6 int8 40 w6:0x0 fill=random:1006
.tensor ww0b6 int8 40 w6:40 fill=random:1506
.tensor ww0a7 int8 40 w7:0x0 fill=random:1007
.tensor ww0b7 int8 40 w7:40 fill=random:1507
.tensor ww1a0 int8 40 w8:0x0 fill=random:1010
.tensor ww1b0 int8 40 w8:40 fill=random:1510:64
.tensor ww1a1 int8 40 w9:0x0 fill=random:1011
.tensor ww1b1 int8 40 w9:40 fill=random:1511:64
.tensor ww1a2 int8 40 w10:0x0 fill=random:1012
.tensor ww1b2 int8 40 w10:40 fill=random:1512:64
.tensor ww1a3 int8 40 w11:0x0 fill=random:1013
.tensor ww1b3 int8 40 w11:40 fill=random:1513:64
.tensor ww1a4 int8 40 w12:0x0 fill=random:1014
.tensor ww1b4 int8 40 w12:40 fill=random:1514:64
.tensor ww1a5 int8 40 w13:0x0 fill=random:1015
.tensor ww1b5 int8 40 w13:40 fill=random:1515:64
.tensor ww1a6 int8 40 w14:0x0 fill=random:1016
.tensor ww1b6 int8 40 w14:40 fill=random:1516:64
.tensor ww1a7 int8 40 w15:0x0 fill=random:1017
.tensor ww1b7 int8 40 w15:40 fill=random:1517:64
.tensor xw0 int8 1 w16:0x0 fill=random:900
.tensor xw1 int8 1 w17:0x0 fill=random:901
.tensor xw2 int8 1 w18:0x0 fill=random:902
.tensor xw3 int8 1 w19:0x0 fill=random:903:64
.tensor y0 int32 1 e36,e37,e38,e39:0x0
.tensor we0a0 int8 24 e0:0x0 fill=random:1100
.tensor we0b0 int8 24 e0:24 fill=random:1600
.tensor we0a1 int8 24 e1:0x0 fill=random:1101
.tensor we0b1 int8 24 e1:24 fill=random:1601
.tensor we0a2 int8 24 e2:0x0 fill=random:1102
.tensor we0b2 int8 24 e2:24 fill=random:1602
.tensor we0a3 int8 24 e3:0x0 fill=random:1103
.tensor we0b3 int8 24 e3:24 fill=random:1603
.tensor we0a4 int8 24 e4:0x0 fill=random:1104
.tensor we0b4 int8 24 e4:24 fill=random:1604
.tensor we0a5 int8 24 e5:0x0 fill=random:1105
.tensor we0b5 int8 24 e5:24 fill=random:1605
.tensor we0a6 int8 24 e6:0x0 fill=random:1106
.tensor we0b6 int8 24 e6:24 fill=random:1606
.tensor we0a7 int8 24 e7:0x0 fill=random:1107
.tensor we0b7 int8 24 e7:24 fill=random:1607
.tensor we1a0 int8 24 e8:0x0 fill=random:1110
.tensor we1b0 int8 24 e8:24 fill=random:1610:64
.tensor we1a1 int8 24 e9:0x0 fill=random:1111
.tensor we1b1 int8 24 e9:24 fill=random:1611:64
.tensor we1a2 int8 24 e10:0x0 fill=random:1112
.tensor we1b2 int8 24 e10:24 fill=random:1612:64
.tensor we1a3 int8 24 e11:0x0 fill=random:1113
.tensor we1b3 int8 24 e11:24 fill=random:1613:64
.tensor we1a4 int8 24 e12:0x0 fill=random:1114
.tensor we1b4 int8 24 e12:24 fill=random:1614:64
.tensor we1a5 int8 24 e13:0x0 fill=random:1115
.tensor we1b5 int8 24 e13:24 fill=random:1615:64
.tensor we1a6 int8 24 e14:0x0 fill=random:1116
.tensor we1b6 int8 24 e14:24 fill=random:1616:64
.tensor we1a7 int8 24 e15:0x0 fill=random:1117
.tensor we1b7 int8 24 e15:24 fill=random:1617:64
.tensor xe0 int8 1 e16:0x0 fill=random:900
.tensor xe1 int8 1 e17:0x0 fill=random:901
.tensor xe2 int8 1 e18:0x0 fill=random:902
.tensor xe3 int8 1 e19:0x0 fill=random:903:64
.tensor y1 int32 1 w36,w37,w38,w39:0x0

.queue mem.w0
    read 0, s0w
    repeat 39, 1, 1
    nop 1
    read 40, s0w
    repeat 39, 1, 1

.queue mem.w1
    nop 1
    read 0, s1w
    repeat 39, 1, 1
    nop 1
    read 40, s1w
    repeat 39, 1, 1

.queue mem.w2
    nop 2
    read 0, s2w
    repeat 39, 1, 1
    nop 1
    read 40, s2w
    repeat 39, 1, 1

.queue mem.w3
    nop 3
    read 0, s3w
    repeat 39, 1, 1
    nop 1
    read 40, s3w
    repeat 39, 1, 1

.queue mem.w4
    nop 4
    read 0, s4w
    repeat 39, 1, 1
    nop 1
    read 40, s4w
    repeat 39, 1, 1

.queue mem.w5
    nop 5
    read 0, s5w
    repeat 39, 1, 1
    nop 1
    read 40, s5w
    repeat 39, 1, 1

.queue mem.w6
    nop 6
    read 0, s6w
    repeat 39, 1, 1
    nop 1
    read 40, s6w
    repeat 39, 1, 1

.queue mem.w7
    nop 7
    read 0, s7w
    repeat 39, 1, 1
    nop 1
    read 40, s7w
    repeat 39, 1, 1

.queue mxm.w0
    nop 47
    lw.int8 s0w, 8
    repeat 39, 1
    iw
    lw.int8 s0w, 8
    repeat 39, 1
    iw

.queue mem.w16
    nop 76
    read 0x0, s16w

.queue mxm.w1
    nop 107
    abc.int8 s16w
    nop 40
    abc.int8 s17w

.queue mem.w17
    nop 118
    read 0x0, s17w

.queue mxm.w2
    nop 168
    acc.int32 s0e

.queue mem.w8
    nop 8
    read 0, s8w
    repeat 39, 1, 1
    nop 1
    read 40, s8w
    repeat 39, 1, 1

.queue mem.w9
    nop 9
    read 0, s9w
    repeat 39, 1, 1
    nop 1
    read 40, s9w
    repeat 39, 1, 1

.queue mem.w10
    nop 10
    read 0, s10w
    repeat 39, 1, 1
    nop 1
    read 40, s10w
    repeat 39, 1, 1

.queue mem.w11
    nop 11
    read 0, s11w
    repeat 39, 1, 1
    nop 1
    read 40, s11w
    repeat 39, 1, 1

.queue mem.w12
    nop 12
    read 0, s12w
    repeat 39, 1, 1
    nop 1
    read 40, s12w
    repeat 39, 1, 1

.queue mem.w13
    nop 13
    read 0, s13w
    repeat 39, 1, 1
    nop 1
    read 40, s13w
    repeat 39, 1, 1

.queue mem.w14
    nop 14
    read 0, s14w
    repeat 39, 1, 1
    nop 1
    read 40, s14w
    repeat 39, 1, 1

.queue mem.w15
    nop 15
    read 0, s15w
    repeat 39, 1, 1
    nop 1
    read 40, s15w
    repeat 39, 1, 1

.queue mxm.w3
    nop 47
    lw.int8 s8w, 8
    repeat 39, 1
    iw
    lw.int8 s8w, 8
    repeat 39, 1
    iw

.queue mem.w18
    nop 78
    read 0x0, s18w

.queue mxm.w4
    nop 107
    abc.int8 s18w
    nop 40
    abc.int8 s19w

.queue mem.w19
    nop 120
    read 0x0, s19w

.queue mxm.w5
    nop 168
    acc.int32 s4e

.queue vxm.alu0
    nop 216
    add.int32 s8e, s0e, s4e

.queue mem.e36
    nop 255
    write 0x0, s8e

.queue mem.e37
    nop 256
    write 0x0, s9e

.queue mem.e38
    nop 257
    write 0x0, s10e

.queue mem.e39
    nop 258
    write 0x0, s11e

.queue mem.e0
    read 0, s0e
    repeat 23, 1, 1
    nop 1
    read 24, s0e
    repeat 23, 1, 1

.queue mem.e1
    nop 1
    read 0, s1e
    repeat 23, 1, 1
    nop 1
    read 24, s1e
    repeat 23, 1, 1

.queue mem.e2
    nop 2
    read 0, s2e
    repeat 23, 1, 1
    nop 1
    read 24, s2e
    repeat 23, 1, 1

.queue mem.e3
    nop 3
    read 0, s3e
    repeat 23, 1, 1
    nop 1
    read 24, s3e
    repeat 23, 1, 1

.queue mem.e4
    nop 4
    read 0, s4e
    repeat 23, 1, 1
    nop 1
    read 24, s4e
    repeat 23, 1, 1

.queue mem.e5
    nop 5
    read 0, s5e
    repeat 23, 1, 1
    nop 1
    read 24, s5e
    repeat 23, 1, 1

.queue mem.e6
    nop 6
    read 0, s6e
    repeat 23, 1, 1
    nop 1
    read 24, s6e
    repeat 23, 1, 1

.queue mem.e7
    nop 7
    read 0, s7e
    repeat 23, 1, 1
    nop 1
    read 24, s7e
    repeat 23, 1, 1

.queue mxm.e0
    nop 47
    lw.int8 s0e, 8
    repeat 23, 1
    iw
    lw.int8 s0e, 8
    repeat 23, 1
    nop 15
    iw

.queue mem.e16
    nop 60
    read 0x0, s16e

.queue mxm.e1
    nop 91
    abc.int8 s16e
    nop 39
    abc.int8 s17e

.queue mem.e17
    nop 101
    read 0x0, s17e

.queue mxm.e2
    nop 151
    acc.int32 s0w

.queue mem.e8
    nop 8
    read 0, s8e
    repeat 23, 1, 1
    nop 1
    read 24, s8e
    repeat 23, 1, 1

.queue mem.e9
    nop 9
    read 0, s9e
    repeat 23, 1, 1
    nop 1
    read 24, s9e
    repeat 23, 1, 1

.queue mem.e10
    nop 10
    read 0, s10e
    repeat 23, 1, 1
    nop 1
    read 24, s10e
    repeat 23, 1, 1

.queue mem.e11
    nop 11
    read 0, s11e
    repeat 23, 1, 1
    nop 1
    read 24, s11e
    repeat 23, 1, 1

.queue mem.e12
    nop 12
    read 0, s12e
    repeat 23, 1, 1
    nop 1
    read 24, s12e
    repeat 23, 1, 1

.queue mem.e13
    nop 13
    read 0, s13e
    repeat 23, 1, 1
    nop 1
    read 24, s13e
    repeat 23, 1, 1

.queue mem.e14
    nop 14
    read 0, s14e
    repeat 23, 1, 1
    nop 1
    read 24, s14e
    repeat 23, 1, 1

.queue mem.e15
    nop 15
    read 0, s15e
    repeat 23, 1, 1
    nop 1
    read 24, s15e
    repeat 23, 1, 1

.queue mxm.e3
    nop 47
    lw.int8 s8e, 8
    repeat 23, 1
    iw
    lw.int8 s8e, 8
    repeat 23, 1
    nop 15
    iw

.queue mem.e18
    nop 62
    read 0x0, s18e

.queue mxm.e4
    nop 91
    abc.int8 s18e
    nop 39
    abc.int8 s19e

.queue mem.e19
    nop 103
    read 0x0, s19e

.queue mxm.e5
    nop 151
    acc.int32 s4w

.queue vxm.alu1
    nop 199
    add.int32 s8w, s0w, s4w

.queue mem.w36
    nop 238
    write 0x0, s8w

.queue mem.w37
    nop 239
    write 0x0, s9w

.queue mem.w38
    nop 240
    write 0x0, s10w

.queue mem.w39
    nop 241
    write 0x0, s11w
