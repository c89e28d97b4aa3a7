; data-lost: chip 0 sends one vector on link 0 (it arrives on chip 1 in cycle 285, as in
; tests/data/c2c/ping_send.s), but chip 1 is idle: no receive takes it.
.tensor x int8 1 w0:0x0 fill=ramp:0:1

.queue mem.w0
    read 0x0, s0w
.queue c2c.0
    nop 47
    send 0, s0w
