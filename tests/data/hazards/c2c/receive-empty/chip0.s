; receive-empty: chip 0 receives on link 0, but chip 1 (idle) sends nothing: the receive
; finds no vector (and puts zeros on its stream).
.queue c2c.0
    nop 300
    receive 0, s0e
