; not-forwarded: chip 0 sends a vector for chip 2 on link 0, whose far end is chip 1 (the
; line 0 - 1 - 2 of system.json): chip 1 must receive it and send it on towards chip 2, but
; chip 1 is idle, so the vector waits on chip 1's port 1 for good.
.tensor x int8 1 w0:0x0 fill=ramp:0:1

.queue mem.w0
    read 0x0, s0w
.queue c2c.0
    nop 47
    send 0, s0w, 2
