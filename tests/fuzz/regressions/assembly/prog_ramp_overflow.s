.tensor a int8 1 w0:0 fill=ramp:1e308:1e308
.queue mem.w0
    read 0, s0e
