.tensor h fp16 1 w0,w1:0
.queue mem.w0
    read 0, s0e
