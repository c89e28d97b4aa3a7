.tensor a int8 1 w0:0
.queue mem.w0
    read 0, s0e
