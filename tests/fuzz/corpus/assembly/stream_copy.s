; stream_copy.s: copy 64 int8 vectors from one hemisphere to the other at one vector per
; cycle, with the VXM adding 1 on the way: the MEM -> VXM -> MEM streaming pattern.
; expect-cycles: 130
;
; Positions (tsp-v1): mem.w20 = 25, VXM = 46, mem.e20 = 67. Timing: read func 2,
; add func 2, write func 1, hop 1.
;   w20 reads word k in cycle k (k = 0..63) onto s0e: at 25 in k + 2, at the VXM (21 hops)
;   in k + 23. alu5 adds in cycles 23..86 onto s1e: at 46 in k + 25, at e20 (21 hops) in
;   k + 46, where it is written to word k.
; Total: the last write (k = 63) issues in 109 and commits in 110; + 1 + 19 = 130.
.tensor src int8 64 w20:0x0 fill=ramp:0:1
.tensor dst int8 64 e20:0x0

.queue mem.w20
    read 0x0, s0e
    repeat 63, 1, 1
.queue vxm.alu5
    nop 23
    add.int8 s1e, s0e, #1
    repeat 63, 1
.queue mem.e20
    nop 46
    write 0x0, s1e
    repeat 63, 1, 1
