; forward_hop.s (chip 1 of tests/data/c2c/line3.json): passes chip 0's vector for chip 2 on.
; It arrives on port 1 in cycle 285 (tests/data/c2c/ping_send.s's timing); c2c.1 receives
; it then and puts it on s0e at the west edge (position 0) in cycle 286, where c2c.0 (also
; at position 0) sends it on towards chip 2: serialised 286..308, it arrives in cycle
; 308 + 216 = 524.
.queue c2c.1
    nop 285
    receive 1, s0e
.queue c2c.0
    nop 286
    send 0, s0e, 2
