; forward_send.s (chip 0 of tests/data/c2c/line3.json): ping_send.s's vector, addressed to
; chip 2, out on link 0 towards chip 1 (which forwards it: forward_hop.s).
.tensor x int8 1 w0:0x0 fill=ramp:0:1

.queue mem.w0
    read 0x0, s0w
.queue c2c.0
    nop 47
    send 0, s0w, 2
