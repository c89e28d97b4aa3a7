; ping_recv.s (chip 1 of tests/data/c2c/pair.json): takes the vector ping_send.s sends.
; It arrives in cycle 285; c2c.0 receives it then (receive skew 0) and puts it on s0e at the
; west edge (position 0) in cycle 286 (receive func 1); it reaches mem.w0 (position 45) 45
; hops later, in cycle 331, where it is written (commits in cycle 332).
; Total: 332 + 1 + 19 trailing superlanes = 352 cycles.
.tensor y int8 1 w0:0x0

.queue c2c.0
    nop 285
    receive 0, s0e
.queue mem.w0
    nop 331
    write 0x0, s0e
