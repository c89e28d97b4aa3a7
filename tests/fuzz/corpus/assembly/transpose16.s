; transpose16.s: a 16 x 16 int8 transpose on the east SXM, over 16 streams.
; expect-cycles: 113
;
; Input vector k (16 of them) is in slice e<k>; within each 16-lane superlane, output stream j,
; lane l holds input vector l's lane j. Positions: mem.e<i> = 47 + i, SXM east = 91.
; Timing: read 2, transpose 18, write 1, hop 1.
;   e<k> reads in cycle k onto s<k>e: at 47 + k in k + 2, at the SXM (44 - k hops) in 46;
;   sxm.e0: transpose.int8 s16w, s0e in 46: the result is on s16w..s31w at 91 in 64;
;   stream 16 + j goes to e<16+j> (position 63 + j, 28 - j hops): written in 64 + 28 - j.
; Total: the last write (e16) issues in 92 and commits in 93; + 20 = 113.
.tensor in0 int8 1 e0:0x0 fill=random:200
.tensor in1 int8 1 e1:0x0 fill=random:201
.tensor in2 int8 1 e2:0x0 fill=random:202
.tensor in3 int8 1 e3:0x0 fill=random:203
.tensor in4 int8 1 e4:0x0 fill=random:204
.tensor in5 int8 1 e5:0x0 fill=random:205
.tensor in6 int8 1 e6:0x0 fill=random:206
.tensor in7 int8 1 e7:0x0 fill=random:207
.tensor in8 int8 1 e8:0x0 fill=random:208
.tensor in9 int8 1 e9:0x0 fill=random:209
.tensor in10 int8 1 e10:0x0 fill=random:210
.tensor in11 int8 1 e11:0x0 fill=random:211
.tensor in12 int8 1 e12:0x0 fill=random:212
.tensor in13 int8 1 e13:0x0 fill=random:213
.tensor in14 int8 1 e14:0x0 fill=random:214
.tensor in15 int8 1 e15:0x0 fill=random:215
.tensor out0 int8 1 e16:0x0
.tensor out1 int8 1 e17:0x0
.tensor out2 int8 1 e18:0x0
.tensor out3 int8 1 e19:0x0
.tensor out4 int8 1 e20:0x0
.tensor out5 int8 1 e21:0x0
.tensor out6 int8 1 e22:0x0
.tensor out7 int8 1 e23:0x0
.tensor out8 int8 1 e24:0x0
.tensor out9 int8 1 e25:0x0
.tensor out10 int8 1 e26:0x0
.tensor out11 int8 1 e27:0x0
.tensor out12 int8 1 e28:0x0
.tensor out13 int8 1 e29:0x0
.tensor out14 int8 1 e30:0x0
.tensor out15 int8 1 e31:0x0

.queue mem.e0
    read 0x0, s0e

.queue mem.e1
    nop 1
    read 0x0, s1e

.queue mem.e2
    nop 2
    read 0x0, s2e

.queue mem.e3
    nop 3
    read 0x0, s3e

.queue mem.e4
    nop 4
    read 0x0, s4e

.queue mem.e5
    nop 5
    read 0x0, s5e

.queue mem.e6
    nop 6
    read 0x0, s6e

.queue mem.e7
    nop 7
    read 0x0, s7e

.queue mem.e8
    nop 8
    read 0x0, s8e

.queue mem.e9
    nop 9
    read 0x0, s9e

.queue mem.e10
    nop 10
    read 0x0, s10e

.queue mem.e11
    nop 11
    read 0x0, s11e

.queue mem.e12
    nop 12
    read 0x0, s12e

.queue mem.e13
    nop 13
    read 0x0, s13e

.queue mem.e14
    nop 14
    read 0x0, s14e

.queue mem.e15
    nop 15
    read 0x0, s15e

.queue mem.e16
    nop 92
    write 0x0, s16w

.queue mem.e17
    nop 91
    write 0x0, s17w

.queue mem.e18
    nop 90
    write 0x0, s18w

.queue mem.e19
    nop 89
    write 0x0, s19w

.queue mem.e20
    nop 88
    write 0x0, s20w

.queue mem.e21
    nop 87
    write 0x0, s21w

.queue mem.e22
    nop 86
    write 0x0, s22w

.queue mem.e23
    nop 85
    write 0x0, s23w

.queue mem.e24
    nop 84
    write 0x0, s24w

.queue mem.e25
    nop 83
    write 0x0, s25w

.queue mem.e26
    nop 82
    write 0x0, s26w

.queue mem.e27
    nop 81
    write 0x0, s27w

.queue mem.e28
    nop 80
    write 0x0, s28w

.queue mem.e29
    nop 79
    write 0x0, s29w

.queue mem.e30
    nop 78
    write 0x0, s30w

.queue mem.e31
    nop 77
    write 0x0, s31w

.queue sxm.e0
    nop 46
    transpose.int8 s16w, s0e
