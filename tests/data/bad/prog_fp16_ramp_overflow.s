.tensor h fp16 1 w0,w1:0 fill=ramp:0:1000
.queue mem.w0
    read 0, s0e
