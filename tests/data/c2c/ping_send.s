; ping_send.s (chip 0 of tests/data/c2c/pair.json): one int8 vector out on link 0.
; mem.w0 (position 45) reads x onto the westward stream s0w: there in cycle 2 (read func 2),
; at the west edge (position 0, where C2C ports 0-7 sit) 45 hops later, in cycle 47.
; c2c.0 sends it in cycle 47 (send skew 0): the link is busy serialising 320 bytes for
; ceil(320 / (4 x 28e9 / 8 x 64/66) s x 900 MHz) = ceil(21.21) = 22 cycles (47..69), and
; the vector arrives on chip 1 216 cycles (the link's latency) after its last bit left:
; cycle 69 + 216 = 285.
.tensor x int8 1 w0:0x0 fill=ramp:0:1

.queue mem.w0
    read 0x0, s0w
.queue c2c.0
    nop 47
    send 0, s0w
