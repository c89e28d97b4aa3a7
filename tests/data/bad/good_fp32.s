.tensor f fp32 1 w0,w1,w2,w3:0
.queue mem.w0
    read 0, s0e
