; link-busy: two vectors sent on link 0 one cycle apart. The first holds the link's outbound
; direction for 22 cycles (320 bytes at 4 x 28 Gbps x 64/66, 900 MHz), cycles 47..69, so
; the second (cycle 48) finds it still serialising; the link has no queue, and the checker
; reports it. (The simulator then times the second as if it started in cycle 69, and chip 1
; receives both: this is the only hazard.)
.tensor x int8 2 w0:0x0 fill=ramp:0:1

.queue mem.w0
    read 0x0, s0w
    repeat 1, 1, 1
.queue c2c.0
    nop 47
    send 0, s0w
    send 0, s0w
