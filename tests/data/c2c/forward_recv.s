; forward_recv.s (chip 2 of tests/data/c2c/line3.json): the vector arrives on port 1 in
; cycle 524, is on s0e at position 0 in cycle 525 and at mem.w0 (position 45) in cycle 570,
; where it is written (commits in 571). Total: 571 + 1 + 19 = 591 cycles.
.tensor y int8 1 w0:0x0

.queue c2c.1
    nop 524
    receive 1, s0e
.queue mem.w0
    nop 570
    write 0x0, s0e
