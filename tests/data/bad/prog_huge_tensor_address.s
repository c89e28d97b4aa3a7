.tensor a int8 2 w0:0x7fffffffffffffff
.queue mem.w0
    read 0, s0e
