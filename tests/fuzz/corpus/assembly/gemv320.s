; gemv320.s: y = W x, int8 W (320 x 320) and x (320) -> int32 y, on plane 0 of the west MXM.
; expect-cycles: 155
;
; W's 320 rows are spread over 16 slices so that one lw takes 16 rows a cycle: row 16t + k is
; vector t of tensor w<k>, in slice w<k>. Positions (tsp-v1): mem.w<i> = 45 - i, MXM west = 0.
; Timing: read 2, lw 1, iw 20, abc 20, acc 2, write 1, hop 1.
;   slice w<k> reads vector t in cycle k + t onto s<k>w: at position 45 - k in k + t + 2,
;     at the MXM (45 - k hops) in t + 47: all 16 rows of group t arrive together;
;   mxm.w0: lw.int8 s0w, 16 in cycles 47..66 (rows 16t..16t+15), iw in 67;
;     the weights are installed in 67 + 20 = 87;
;   x is in w16 (position 29), read in 87 - 2 - 29 = 56 onto s16w: at the MXM in 87;
;   mxm.w1: abc.int8 s16w in 87; the product is in accumulator slot 0 in 87 + 20 = 107;
;   mxm.w2: acc.int32 s0e in 107; y's 4 byte planes are on s0e..s3e at position 0 in 109;
;   plane b of y goes to w<20+b> (position 25 - b): written in 109 + 25 - b.
; Total: the last write (w20) issues in 134 and commits in 135; + 20 = 155.
.tensor w0 int8 20 w0:0x0 fill=random:100
.tensor w1 int8 20 w1:0x0 fill=random:101
.tensor w2 int8 20 w2:0x0 fill=random:102
.tensor w3 int8 20 w3:0x0 fill=random:103
.tensor w4 int8 20 w4:0x0 fill=random:104
.tensor w5 int8 20 w5:0x0 fill=random:105
.tensor w6 int8 20 w6:0x0 fill=random:106
.tensor w7 int8 20 w7:0x0 fill=random:107
.tensor w8 int8 20 w8:0x0 fill=random:108
.tensor w9 int8 20 w9:0x0 fill=random:109
.tensor w10 int8 20 w10:0x0 fill=random:110
.tensor w11 int8 20 w11:0x0 fill=random:111
.tensor w12 int8 20 w12:0x0 fill=random:112
.tensor w13 int8 20 w13:0x0 fill=random:113
.tensor w14 int8 20 w14:0x0 fill=random:114
.tensor w15 int8 20 w15:0x0 fill=random:115
.tensor x int8 1 w16:0x0 fill=random:99
.tensor y int32 1 w20,w21,w22,w23:0x0

.queue mem.w0
    read 0x0, s0w
    repeat 19, 1, 1

.queue mem.w1
    nop 1
    read 0x0, s1w
    repeat 19, 1, 1

.queue mem.w2
    nop 2
    read 0x0, s2w
    repeat 19, 1, 1

.queue mem.w3
    nop 3
    read 0x0, s3w
    repeat 19, 1, 1

.queue mem.w4
    nop 4
    read 0x0, s4w
    repeat 19, 1, 1

.queue mem.w5
    nop 5
    read 0x0, s5w
    repeat 19, 1, 1

.queue mem.w6
    nop 6
    read 0x0, s6w
    repeat 19, 1, 1

.queue mem.w7
    nop 7
    read 0x0, s7w
    repeat 19, 1, 1

.queue mem.w8
    nop 8
    read 0x0, s8w
    repeat 19, 1, 1

.queue mem.w9
    nop 9
    read 0x0, s9w
    repeat 19, 1, 1

.queue mem.w10
    nop 10
    read 0x0, s10w
    repeat 19, 1, 1

.queue mem.w11
    nop 11
    read 0x0, s11w
    repeat 19, 1, 1

.queue mem.w12
    nop 12
    read 0x0, s12w
    repeat 19, 1, 1

.queue mem.w13
    nop 13
    read 0x0, s13w
    repeat 19, 1, 1

.queue mem.w14
    nop 14
    read 0x0, s14w
    repeat 19, 1, 1

.queue mem.w15
    nop 15
    read 0x0, s15w
    repeat 19, 1, 1

.queue mxm.w0
    nop 47
    lw.int8 s0w, 16
    repeat 19, 1
    iw

.queue mem.w16
    nop 56
    read 0x0, s16w

.queue mxm.w1
    nop 87
    abc.int8 s16w

.queue mxm.w2
    nop 107
    acc.int32 s0e

.queue mem.w20
    nop 134
    write 0x0, s0e

.queue mem.w21
    nop 133
    write 0x0, s1e

.queue mem.w22
    nop 132
    write 0x0, s2e

.queue mem.w23
    nop 131
    write 0x0, s3e
