.tensor a int8 9000 w0:0
.queue mem.w0
    nop 1
